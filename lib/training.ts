// The training Lambda: triggered by an object created under `uploads/`, it reads the upload, writes a
// report under `reports/` (and artefacts under `models/`) and publishes a model version to both tables; when
// the stage exports (config `exports.topN` > 0) it then writes every user's top-N under `exports/`.
// Failures after the retries land in an SQS DLQ. There is no reserved concurrency (it cannot be set on a new
// account: lib/function.ts): one training at a time is the handler's own lease item in the clusters table
// (pk `lease`, sk `training`), written with the table-wide item writes below.
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { keys } from '../functions/adapters/dynamo/layout';
import { ENV, ENV_DISTRIBUTED, S3_PREFIXES } from '../functions/shared/resources';
import { stateMachineArnOf } from './distributed-training';
import { type StageConfig, resourceName } from './config';
import { MovierecFunction } from './function';
import { removalPolicy } from './removal';
import { Tables } from './storage';

export const TRAIN_ENTRY = 'functions/handlers/train.ts';

/** DynamoDB actions of the training function: read the active pointer/favourites, write a version
 * (BatchWriteItem also carries the DeleteRequests that clean up superseded versions). */
export const TRAINING_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:BatchWriteItem',
] as const;

/** S3 actions on exports/* of a stage that exports (and none otherwise). */
export const EXPORT_S3_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'] as const;

/** Partition key of the training lease (functions/adapters/dynamo/layout.ts), which the training handler
 * writes to run one training at a time and deletes when it is done. */
export const TRAINING_LEASE_PK = keys.lease().pk;

export interface TrainingProps {
  config: StageConfig;
  bucket: s3.Bucket;
  tables: Tables;
}

export class Training extends Construct {
  readonly function: MovierecFunction;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TrainingProps) {
    super(scope, id);
    const { config, bucket, tables } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'Dlq', {
      queueName: resourceName(config.stage, 'train-dlq'),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: removalPolicy(config),
    });

    this.function = new MovierecFunction(this, 'Train', {
      config,
      name: 'train',
      entry: TRAIN_ENTRY,
      description: 'Trains K-means user clusters from an uploaded ratings file and publishes a model version',
      sizing: config.training,
      // runs for minutes, so cold start hardly matters: the SDK version the integration tests ran wins
      awsSdk: 'bundled',
      environment: {
        [ENV.usersTable]: tables.users.tableName,
        [ENV.clustersTable]: tables.clusters.tableName,
        [ENV.bucket]: bucket.bucketName,
        [ENV.trainingParams]: JSON.stringify(config.training.params),
        // uploads past this function's bound start the training state machine (lib/distributed-training.ts)
        [ENV_DISTRIBUTED.trainingMode]: config.distributed.mode,
        [ENV_DISTRIBUTED.stateMachineArn]: stateMachineArnOf(this, config.stage),
        [ENV.exportTopN]: String(config.exports.topN),
      },
    });
    const fn = this.function.fn;
    fn.configureAsyncInvoke({
      retryAttempts: config.training.retryAttempts,
      maxEventAge: Duration.hours(config.training.maxEventAgeHours),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });

    const role = this.function.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadUploads',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [bucket.arnForObjects(`${S3_PREFIXES.uploads}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteReportsAndModels',
        // lib-storage's Upload goes multipart above 5 MB and aborts the upload when a part fails
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${S3_PREFIXES.reports}*`), bucket.arnForObjects(`${S3_PREFIXES.models}*`)],
      }),
    );
    if (config.exports.topN > 0) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'WriteExports',
          // streamed multipart uploads (aborted on failure), and the exports of versions a publish deletes
          actions: [...EXPORT_S3_ACTIONS],
          resources: [bucket.arnForObjects(`${S3_PREFIXES.exports}*`)],
        }),
      );
    }
    role.addToPolicy(tableStatement('WriteTables', TRAINING_TABLE_ACTIONS, tables.all));
    // single-flight without reserved concurrency: the lease is put/updated with the item writes above and
    // released with DeleteItem, which is allowed on that one partition key only
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReleaseTrainingLease',
        actions: ['dynamodb:DeleteItem'],
        resources: [tables.clusters.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [TRAINING_LEASE_PK] } },
      }),
    );

    if (config.distributed.mode !== 'single') {
      role.addToPolicy(new iam.PolicyStatement({ sid: 'StartDistributedTraining', actions: ['states:StartExecution'], resources: [stateMachineArnOf(this, config.stage)] }));
    }

    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(fn), {
      prefix: S3_PREFIXES.uploads,
    });
  }
}

export function tableStatement(sid: string, actions: readonly string[], tables: dynamodb.ITable[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: [...actions], resources: tables.map((t) => t.tableArn) });
}
