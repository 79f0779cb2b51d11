// The one stack of a stage: storage, training, API, monitoring, and the outputs a user needs.
import { Annotations, App, CfnOutput, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { Api, apiKeyIdentity } from './api';
import { QUOTA_SAFE_MEMORY_MB, type StageConfig, resolveStage } from './config';
import { Monitoring } from './monitoring';
import { acknowledgeFindings } from './nag';
import { stackName as stageStackName } from './names';
import { Tables, UploadsBucket } from './storage';
import { DistributedTraining } from './distributed-training';
import { Training } from './training';

export interface MovierecStackProps extends StackProps {
  config: StageConfig;
}

export class MovierecStack extends Stack {
  readonly uploads: UploadsBucket;
  readonly tables: Tables;
  readonly training: Training;
  readonly distributed: DistributedTraining;
  readonly api: Api;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: MovierecStackProps) {
    super(scope, id, props);
    // set on the stack itself (before any child exists), so the stack behaves the same in any app
    for (const [flag, value] of Object.entries(FEATURE_FLAGS)) {
      if (this.node.tryGetContext(flag) === undefined) this.node.setContext(flag, value);
    }
    const { config } = props;
    Tags.of(this).add('Project', 'movierec');
    Tags.of(this).add('Stage', config.stage);

    this.uploads = new UploadsBucket(this, 'Uploads', config);
    this.tables = new Tables(this, 'Tables', config);
    this.training = new Training(this, 'Training', { config, bucket: this.uploads.bucket, tables: this.tables });
    this.distributed = new DistributedTraining(this, 'DistributedTraining', { config, bucket: this.uploads.bucket, tables: this.tables });
    this.api = new Api(this, 'Api', { config, tables: this.tables });
    this.monitoring = new Monitoring(this, 'Monitoring', { config, training: this.training, api: this.api, distributed: this.distributed });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the API (send the x-api-key header)', value: this.api.restApi.url });
    new CfnOutput(this, 'BucketName', {
      description: 'Upload ratings files under uploads/ to train a new model',
      value: this.uploads.bucket.bucketName,
    });
    this.api.addKeyOutputs(this);
    const first = this.api.apiKeys[0];
    new CfnOutput(this, 'GetApiKeyCommand', {
      description: `Prints the value of the ${first.spec.consumer} API key (${apiKeyIdentity(config.stage, first.spec).name})`,
      value: `aws apigateway get-api-key --api-key ${first.key.keyId} --include-value --query value --output text`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.monitoring.dashboard.dashboardName}`,
    });

    // opt-ins beyond a new account's quotas: a reminder at synth time (`movierec doctor` checks the account)
    if (config.training.memorySize > QUOTA_SAFE_MEMORY_MB) {
      Annotations.of(this).addWarningV2(
        'movierec:trainingMemory',
        `Training memory ${config.training.memorySize} MB is above the ${QUOTA_SAFE_MEMORY_MB} MB that new accounts allow; run \`npx movierec doctor --stage ${config.stage}\` before deploying.`,
      );
    }
    if (config.api.provisionedConcurrency > 0) {
      Annotations.of(this).addWarningV2(
        'movierec:apiProvisioned',
        `API provisioned concurrency ${config.api.provisionedConcurrency} needs an account concurrency quota of at least ${100 + config.api.provisionedConcurrency}; run \`npx movierec doctor --stage ${config.stage}\` before deploying.`,
      );
    }

    acknowledgeFindings(this, config);
  }
}

export const stackName = (config: StageConfig): string => stageStackName(config.stage);

/** CDK feature flags this stack relies on (set by the stack so the app and the tests agree without cdk.json). */
export const FEATURE_FLAGS: Record<string, boolean> = {
  // server access logs are allowed by a bucket policy, not the legacy LogDeliveryWrite ACL
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:publicAccessBlockedByDefault': true,
};

/** Composes the app of `-c stage=<name>` (with its context overrides, lib/config.ts): the stack plus cdk-nag's
 * AwsSolutions and Serverless checks, which make synthesis fail on any unacknowledged finding. Shared by
 * bin/app.ts and the infra tests. */
export function buildApp(app: App, options: { nag?: boolean } = {}): MovierecStack {
  const config = resolveStage(app);
  const stack = new MovierecStack(app, stackName(config), {
    config,
    description: `movierec (${config.stage}): K-means movie recommender — uploads bucket, training, API`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return stack;
}
