// The CDK app: `npx cdk synth|deploy -c stage=<dev|prod>` (cdk.json runs this through bin/run-ts.js).
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/stack';

buildApp(new App());
