// One Lambda function with the project's shared defaults: Node.js 24 on arm64, esbuild bundling
// (minified, source maps; AWS SDK v3 bundled at the version pinned in package-lock.json or taken from the
// runtime, chosen per function), X-Ray
// tracing, its own log group with the stage's retention, Powertools environment variables, and its
// own role whose only built-in permission is writing to that log group.
// No reserved concurrency, ever: a new account's concurrency quota is 10, and Lambda keeps at least
// min(100, quota) unreserved ("You can reserve up to the Unreserved account concurrency value that is shown,
// minus 100 for functions that don't have reserved concurrency",
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html), so reserving even 1 fails
// the deploy there. Training is single-flight through a lease item in the clusters table instead.
import * as path from 'node:path';
import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../functions/shared/resources';
import { type FunctionSizing, type StageConfig, resourceName } from './config';
import { SERVICE, metricsNamespace } from './metrics';
import { functionRoleName } from './names';
import { logRetention, removalPolicy } from './removal';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/** Where a function's AWS SDK v3 comes from (docs/DEPLOY.md, "Bundle"): `bundled` = the version pinned in
 * package-lock.json inside the bundle (reproducible); `runtime` = `@aws-sdk/*` left external and loaded
 * from the copy in the Lambda runtime (smaller bundle, faster cold start). */
export type AwsSdkSource = 'bundled' | 'runtime';

export interface MovierecFunctionProps {
  config: StageConfig;
  /** short name; the function is called `movierec-<stage>-<name>` */
  name: keyof typeof SERVICE;
  /** entry file relative to the project root, exporting `handler` */
  entry: string;
  description: string;
  sizing: FunctionSizing;
  environment?: Record<string, string>;
  /** no default: each function states where its SDK comes from */
  awsSdk: AwsSdkSource;
}

export class MovierecFunction extends Construct {
  /** the entry file (relative to the project root) esbuild bundles for this function */
  readonly entry: string;
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: MovierecFunctionProps) {
    super(scope, id);
    const { config, name, sizing } = props;
    this.entry = props.entry;
    const functionName = resourceName(config.stage, name);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: logRetention(config),
      removalPolicy: removalPolicy(config),
    });

    // Our own role instead of AWSLambdaBasicExecutionRole (a managed policy writing to every log group).
    this.role = new iam.Role(this, 'Role', {
      // role names are global in the account: the region keeps one stage in two regions apart
      roleName: functionRoleName(config.stage, name, Stack.of(this).region),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${functionName}: ${props.description}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`],
      }),
    );

    this.fn = new NodejsFunction(this, 'Fn', {
      functionName,
      description: props.description,
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: sizing.memorySize,
      timeout: Duration.seconds(sizing.timeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(sizing.ephemeralStorageMiB),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      role: this.role,
      environment: {
        [ENV.stage]: config.stage,
        // the metric contract of lib/metrics.ts: alarms match these exactly
        POWERTOOLS_SERVICE_NAME: SERVICE[name],
        POWERTOOLS_LOG_LEVEL: config.logLevel,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace(config.stage),
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node24',
        // per function: see docs/DEPLOY.md ("Bundle") for the measured sizes and the reasoning
        bundleAwsSDK: props.awsSdk === 'bundled',
      },
    });
  }
}
