// The three functions of the training state machine share this: their ports from the environment the stack
// gives them, and a handler that runs the step the state machine names. What each role may touch is
// decided by the stack (lib/distributed-training.ts): workers S3 only, central steps also the status and
// lease items, publish steps the model tables.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { awsConfigFromEnv, makeDocClient, makeDynamoClient, makeS3Client } from '../adapters/aws';
import { DynamoModelStore } from '../adapters/dynamo/store';
import { DynamoTrainingStatus } from '../adapters/dynamo/training';
import { S3ReportStore } from '../adapters/s3';
import { S3RunStore, S3UploadReader } from '../adapters/s3-runs';
import { SfnTrainingStarter } from '../adapters/sfn';
import type { DistributedDeps } from '../app/distributed/deps';
import { runStep } from '../app/distributed/steps';
import { bucketName, ENV, ENV_DISTRIBUTED, tableNames, type TrainingMode } from '../shared/resources';
import type { DistributedRoute } from '../app/distributed/route';
import type { TrainingLease } from '../ports';

export type Role = 'worker' | 'central' | 'publish';

export function distributedDepsFromEnv(role: Role, env: NodeJS.ProcessEnv = process.env): DistributedDeps {
  const stage = env[ENV.stage] ?? 'dev';
  const names = tableNames(stage);
  const s3 = makeS3Client(awsConfigFromEnv(ENV.s3Endpoint, env));
  const bucket = env[ENV.bucket] ?? bucketName(stage);
  const deps: DistributedDeps = { runs: new S3RunStore(s3, bucket), upload: new S3UploadReader(s3) };
  if (role === 'worker') return deps;
  const doc = makeDocClient(makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env)));
  const clusters = env[ENV.clustersTable] ?? names.clusters;
  const store = new DynamoModelStore({ doc, usersTable: env[ENV.usersTable] ?? names.users, clustersTable: clusters, pointerTtlMs: 0 });
  Object.assign(deps, {
    status: new DynamoTrainingStatus(doc, clusters),
    lease: store.lease,
    versions: store,
    reports: new S3ReportStore(s3, bucket),
  });
  if (role === 'publish') deps.store = store;
  const arn = env[ENV_DISTRIBUTED.stateMachineArn];
  if (role === 'central' && arn) deps.starter = new SfnTrainingStarter(new SFNClient({ region: env.AWS_REGION }), arn);
  return deps;
}

/** A handler running the named step with `deps` (built on the first invocation when not given). */
export function makeStepHandler(steps: Parameters<typeof runStep>[0], role: Role, logger: Logger, deps?: DistributedDeps) {
  let built = deps;
  return async (event: { step?: string; version?: string }, context?: Context): Promise<unknown> => {
    built ??= distributedDepsFromEnv(role);
    if (context) logger.addContext(context);
    const log = { info: (m: string, e?: object) => logger.info(m, { ...e }), warn: (m: string, e?: object) => logger.warn(m, { ...e }) };
    const t0 = Date.now();
    try {
      return await runStep(steps, event, { ...built, log });
    } finally {
      logger.debug('step finished', { step: event.step, version: event.version, ms: Date.now() - t0 });
    }
  };
}

/** The state machine route when the stack configured one (TRAINING_STATE_MACHINE_ARN). */
export function distributedRouteFromEnv(
  env: NodeJS.ProcessEnv,
  doc: ReturnType<typeof makeDocClient>,
  clustersDefault: string,
  lease: TrainingLease,
): DistributedRoute | undefined {
  const arn = env[ENV_DISTRIBUTED.stateMachineArn];
  const mode = (env[ENV_DISTRIBUTED.trainingMode] ?? 'auto') as TrainingMode;
  if (!['auto', 'single', 'distributed'].includes(mode)) throw new Error(`${ENV_DISTRIBUTED.trainingMode} must be auto, single or distributed, got ${mode}.`);
  if (!arn || mode === 'single') return undefined;
  const clusters = env[ENV.clustersTable] ?? clustersDefault;
  const above = env[ENV_DISTRIBUTED.distributeAboveBytes];
  return {
    mode,
    starter: new SfnTrainingStarter(new SFNClient({ region: env.AWS_REGION }), arn),
    lease,
    status: new DynamoTrainingStatus(doc, clusters),
    ...(above ? { aboveBytes: Number(above) } : {}),
  };
}
