// Data at rest: the uploads bucket (+ its access-log bucket) and the two DynamoDB tables.
import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { IDEMPOTENCY_KEYS, S3_PREFIXES, S3_PREFIXES_DISTRIBUTED, TABLE_KEYS, tableNames } from '../functions/shared/resources';
import type { StageConfig } from './config';
import { bucketNames } from './names';
import { removalPolicy } from './removal';

export class UploadsBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, config: StageConfig) {
    super(scope, id);
    const destroy = config.removal === 'destroy';
    const stack = Stack.of(this);
    // bucket names are global: account and region keep every stage of every account and region apart
    const names = bucketNames(config.stage, stack.account, stack.region);

    // Server access logs must go to an SSE-S3 bucket in the same account and region.
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      bucketName: names.accessLogs,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(config.lifecycle.accessLogsDays) }],
      removalPolicy: removalPolicy(config),
      autoDeleteObjects: destroy,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: names.uploads,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // every upload, even one re-using a key, gets its own object version (and its own event)
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'uploads-bucket/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(config.lifecycle.noncurrentVersionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'expire-reports', prefix: S3_PREFIXES.reports, expiration: Duration.days(config.lifecycle.reportsDays) },
        // a distributed training's intermediate objects: needed only while its execution runs (≤ 12 h), kept
        // a little longer to look into a failed one
        { id: 'expire-training-runs', prefix: S3_PREFIXES_DISTRIBUTED.runs, expiration: Duration.days(TRAINING_RUNS_DAYS) },
      ],
      removalPolicy: removalPolicy(config),
      autoDeleteObjects: destroy,
    });
  }
}

/** Days a training run's intermediate objects (runs/) are kept. */
export const TRAINING_RUNS_DAYS = 3;

export class Tables extends Construct {
  readonly users: dynamodb.Table;
  readonly clusters: dynamodb.Table;
  /** Powertools' idempotency records of the API's POSTs (its own key schema; expire by TTL after 24 h) */
  readonly idempotency: dynamodb.Table;

  constructor(scope: Construct, id: string, config: StageConfig) {
    super(scope, id);
    const names = tableNames(config.stage);
    const modelKeys = { pk: TABLE_KEYS.partitionKey, sk: TABLE_KEYS.sortKey, ttl: TABLE_KEYS.ttl };
    this.users = this.table('Users', names.users, config, modelKeys);
    this.clusters = this.table('Clusters', names.clusters, config, modelKeys);
    this.idempotency = this.table('Idempotency', names.idempotency, config, { pk: IDEMPOTENCY_KEYS.partitionKey, ttl: IDEMPOTENCY_KEYS.ttl });
  }

  /** the two model tables (users and clusters) */
  get all(): dynamodb.Table[] {
    return [this.users, this.clusters];
  }

  private table(id: string, tableName: string, config: StageConfig, keys: { pk: string; sk?: string; ttl: string }): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      tableName,
      partitionKey: { name: keys.pk, type: dynamodb.AttributeType.STRING },
      sortKey: keys.sk ? { name: keys.sk, type: dynamodb.AttributeType.STRING } : undefined,
      timeToLiveAttribute: keys.ttl,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: config.pointInTimeRecovery },
      // off by default: a protected table cannot be deleted by the rollback of a failed first create
      // (config.ts `tableDeletionProtection`)
      deletionProtection: config.tableDeletionProtection,
      removalPolicy: removalPolicy(config),
    });
  }
}
