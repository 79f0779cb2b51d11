// The one stack of a stage: storage, training, API, monitoring, and the outputs a user needs.
import { App, CfnOutput, Stack, type StackProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { Api } from './api';
import { type StageConfig, resolveStage, resourceName } from './config';
import { Monitoring } from './monitoring';
import { acknowledgeFindings } from './nag';
import { Tables, UploadsBucket } from './storage';
import { Training } from './training';

export interface MovierecStackProps extends StackProps {
  config: StageConfig;
}

export class MovierecStack extends Stack {
  readonly uploads: UploadsBucket;
  readonly tables: Tables;
  readonly training: Training;
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
    this.api = new Api(this, 'Api', { config, tables: this.tables });
    this.monitoring = new Monitoring(this, 'Monitoring', { config, training: this.training, api: this.api });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the API (send the x-api-key header)', value: this.api.restApi.url });
    new CfnOutput(this, 'BucketName', {
      description: 'Upload ratings files under uploads/ to train a new model',
      value: this.uploads.bucket.bucketName,
    });
    new CfnOutput(this, 'ApiKeyId', { value: this.api.apiKey.keyId });
    new CfnOutput(this, 'GetApiKeyCommand', {
      description: 'Prints the API key value',
      value: `aws apigateway get-api-key --api-key ${this.api.apiKey.keyId} --include-value --query value --output text`,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });

    acknowledgeFindings(this, config);
  }
}

export const stackName = (config: StageConfig): string => `movierec-${config.stage}`;

/** CDK feature flags this stack relies on (set by the stack so the app and the tests agree without cdk.json). */
export const FEATURE_FLAGS: Record<string, boolean> = {
  // server access logs are allowed by a bucket policy, not the legacy LogDeliveryWrite ACL
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-s3:createDefaultLoggingPolicy': true,
  '@aws-cdk/aws-s3:publicAccessBlockedByDefault': true,
};

/** Composes the app of `-c stage=<name>`: the stack plus cdk-nag's AwsSolutions checks, which make
 * synthesis fail on any unacknowledged finding. Shared by bin/app.ts and the infra tests. */
export function buildApp(app: App, options: { nag?: boolean } = {}): MovierecStack {
  const config = resolveStage(app);
  const stack = new MovierecStack(app, stackName(config), {
    config,
    description: `movierec (${config.stage}): K-means movie recommender — uploads bucket, training, API`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
