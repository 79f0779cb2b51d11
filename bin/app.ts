// The CDK app: `npx cdk synth|deploy -c stage=<dev|prod>` (cdk.json runs this through bin/run-ts.js).
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lib/config';
import { buildApp } from '../lib/stack';

try {
  buildApp(new App());
} catch (err) {
  // a wrong -c stage or setting is a usage error: one clear sentence, no stack trace
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
