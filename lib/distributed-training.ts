// Training past one function: a Standard Step Functions state machine whose Distributed Maps fan out over
// the upload's byte ranges, the partitions and the centres' column ranges, with three functions running
// this project's own engine (functions/handlers/train-{worker,central,publish}.ts). S3 holds the
// intermediate data (runs/, expired after a few days); only keys and loop counters travel in the state.
//
// The definition is shaped so the offline executor (aws-local-stepfunctions, local/step-functions.ts) runs
// it exactly as AWS does: items come from the state input (no ItemReader), workers write their results to S3
// (no ResultWriter, Maps discard their output), JSONPath only, a timeout on every Task, unique Task names.
// local/step-functions.ts refuses a definition that uses a feature the executor would ignore.
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { DISTRIBUTED_FUNCTIONS, ENV, S3_PREFIXES, S3_PREFIXES_DISTRIBUTED, stateMachineName, TRAINING_LEASE_KEY, TRAINING_STATUS_KEY } from '../functions/shared/resources';
import { type FunctionSizing, type StageConfig } from './config';
import { MovierecFunction } from './function';
import { logRetention, removalPolicy } from './removal';
import type { Tables } from './storage';
import { TRAINING_TABLE_ACTIONS, tableStatement } from './training';

export const WORKER_ENTRY = 'functions/handlers/train-worker.ts';
export const CENTRAL_ENTRY = 'functions/handlers/train-central.ts';
export const PUBLISH_ENTRY = 'functions/handlers/train-publish.ts';

/** The state machine's ARN built from its name (no reference to the resource: the central function starts
 * executions of the machine that invokes it, and a reference would make a dependency cycle). */
export function stateMachineArnOf(scope: Construct, stage: string): string {
  const { partition, region, account } = Stack.of(scope);
  return `arn:${partition}:states:${region}:${account}:stateMachine:${stateMachineName(stage)}`;
}

export interface DistributedTrainingProps {
  config: StageConfig;
  bucket: s3.Bucket;
  tables: Tables;
}

type Role = keyof typeof DISTRIBUTED_FUNCTIONS;

export class DistributedTraining extends Construct {
  readonly functions: Record<Role, MovierecFunction>;
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DistributedTrainingProps) {
    super(scope, id);
    const { config, bucket, tables } = props;
    const dist = config.distributed;
    const env = {
      [ENV.usersTable]: tables.users.tableName,
      [ENV.clustersTable]: tables.clusters.tableName,
      [ENV.bucket]: bucket.bucketName,
    };
    const fn = (role: Role, entry: string, sizing: FunctionSizing, description: string, extra: Record<string, string> = {}) =>
      new MovierecFunction(this, role[0].toUpperCase() + role.slice(1), {
        config,
        name: DISTRIBUTED_FUNCTIONS[role] as 'train-worker' | 'train-central' | 'train-publish',
        entry,
        description,
        sizing,
        awsSdk: 'bundled',
        environment: { ...env, ...extra },
      });
    this.functions = {
      worker: fn('worker', WORKER_ENTRY, dist.worker, 'Distributed training: per-partition work (parse, shard, k-means++ trials, Lloyd assignment, centre update, counts, memberships)'),
      central: fn('central', CENTRAL_ENTRY, dist.central, 'Distributed training: central steps (plan, index, k-means++ picks, convergence, fixClusters, hold-out check, failures)', {
        TRAINING_STATE_MACHINE_ARN: stateMachineArnOf(this, config.stage),
      }),
      publish: fn('publish', PUBLISH_ENTRY, dist.publish, 'Distributed training: publish (favourites fold, lists, users by partition, the pointer flip)'),
    };
    this.grant(props, config.stage);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // the /aws/vendedlogs/ prefix keeps the log-delivery resource policy small (AWS's recommendation)
      logGroupName: `/aws/vendedlogs/states/${stateMachineName(config.stage)}`,
      retention: logRetention(config),
      removalPolicy: removalPolicy(config),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: stateMachineName(config.stage),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(this.definition(config)),
      timeout: Duration.hours(dist.timeoutHours),
      comment: 'movierec: training past one function (docs/SCALE.md)',
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }

  /** Least privilege per role: workers S3 only; central steps also the status and lease items (and the
   * pointer/metadata reads of the pre-check); publish steps the model tables. */
  private grant({ bucket, tables }: DistributedTrainingProps, stage: string): void {
    const runs = bucket.arnForObjects(`${S3_PREFIXES_DISTRIBUTED.runs}*`);
    const uploads = bucket.arnForObjects(`${S3_PREFIXES.uploads}*`);
    const s3Statement = (sid: string, actions: string[], resources: string[]) => new iam.PolicyStatement({ sid, actions, resources });
    const { worker, central, publish } = this.functions;
    for (const f of [worker, central, publish]) f.role.addToPolicy(s3Statement('ReadWriteRuns', ['s3:GetObject', 's3:PutObject'], [runs]));
    for (const f of [worker, central]) f.role.addToPolicy(s3Statement('ReadUploads', ['s3:GetObject', 's3:GetObjectVersion'], [uploads]));
    for (const f of [central, publish]) f.role.addToPolicy(s3Statement('WriteReports', ['s3:PutObject', 's3:AbortMultipartUpload'], [bucket.arnForObjects(`${S3_PREFIXES.reports}*`)]));
    const leading = (sid: string, actions: string[], keys: string[]) =>
      new iam.PolicyStatement({ sid, actions, resources: [tables.clusters.tableArn], conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } } });
    central.role.addToPolicy(leading('ReadPointerAndMetadata', ['dynamodb:GetItem'], ['model', TRAINING_STATUS_KEY.pk]));
    central.role.addToPolicy(leading('StatusAndLease', ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [TRAINING_STATUS_KEY.pk, TRAINING_LEASE_KEY.pk]));
    central.role.addToPolicy(new iam.PolicyStatement({ sid: 'ContinueAsNew', actions: ['states:StartExecution'], resources: [stateMachineArnOf(this, stage)] }));
    publish.role.addToPolicy(tableStatement('WriteTables', TRAINING_TABLE_ACTIONS, tables.all));
    publish.role.addToPolicy(leading('ReleaseLease', ['dynamodb:DeleteItem'], [TRAINING_LEASE_KEY.pk]));
  }

  private definition(config: StageConfig): sfn.IChainable {
    const dist = config.distributed;
    const { worker, central, publish } = this.functions;
    const sizingOf = (f: MovierecFunction) => (f === worker ? dist.worker : f === central ? dist.central : dist.publish);
    const invoke = (f: MovierecFunction, id: string, payload: Record<string, unknown>, resultPath: string) => {
      const t = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: f.fn,
        payload: sfn.TaskInput.fromObject(payload),
        // the function's own return value, no invoke metadata: keeps the state small
        payloadResponseOnly: true,
        resultPath,
        taskTimeout: sfn.Timeout.duration(Duration.seconds(sizingOf(f).timeoutSeconds + 60)),
        retryOnServiceExceptions: true,
      });
      // a refused upload is final; a throttled or failed function (S3 SlowDown, a crash) is retried
      t.addRetry({ errors: ['InputError'], maxAttempts: 0 });
      t.addRetry({ errors: ['Lambda.TooManyRequestsException'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL });
      t.addRetry({ errors: ['States.TaskFailed'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3, jitterStrategy: sfn.JitterType.FULL });
      return t;
    };
    const central_ = (id: string, step: string, resultPath = '$.loop', extra: Record<string, unknown> = {}) =>
      invoke(central, id, { step, 'version.$': '$.version', 'loop.$': '$.loop', ...extra }, resultPath);

    // every failure ends here: a refused upload (InputError, its report written) ends the execution in
    // success, as a refused upload ends the single-function invocation normally; anything else fails it
    const failed = invoke(central, 'MarkFailed', { step: 'markFailed', 'version.$': '$.version', 'source.$': '$.source', 'error.$': '$.error' }, '$.failure');
    failed.next(
      new sfn.Choice(this, 'Refused?')
        .when(sfn.Condition.stringEquals('$.failure.status', 'rejected'), new sfn.Succeed(this, 'Rejected'))
        .otherwise(new sfn.Fail(this, 'TrainingFailed', { error: 'TrainingFailed', causePath: '$.error.Cause' })),
    );
    const guard = <T extends sfn.TaskStateBase | sfn.DistributedMap>(s: T): T => {
      s.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
      return s;
    };
    /** A Distributed Map over items in the state, each item one invocation of `f` running `step`. */
    const map = (id: string, taskId: string, f: MovierecFunction, step: string, itemsPath: string) => {
      const m = new sfn.DistributedMap(this, id, {
        itemsPath,
        itemSelector: { step, 'version.$': '$.version', 'item.$': '$$.Map.Item.Value', 'loop.$': '$.loop' },
        maxConcurrency: dist.maxConcurrency,
        mapExecutionType: sfn.StateMachineType.STANDARD,
        resultPath: sfn.JsonPath.DISCARD,
        label: id,
      });
      m.itemProcessor(invoke(f, taskId, { 'step.$': '$.step', 'version.$': '$.version', 'item.$': '$.item', 'loop.$': '$.loop' }, sfn.JsonPath.DISCARD));
      return guard(m);
    };
    const input = { 'version.$': '$.version', 'source.$': '$.source', 'sourceOrder.$': '$.sourceOrder', 'params.$': '$.params', 'options.$': '$.options' };
    const done = new sfn.Succeed(this, 'Done');

    // plan, parse, index, shards
    const plan = guard(invoke(central, 'Plan', { step: 'plan', ...input }, '$.plan'));
    const planned = new sfn.Pass(this, 'Planned', {
      parameters: { ...input, 'plan.$': '$.plan', loop: { next: 'parse', job: 0, restart: 0, round: 0, iteration: 0, final: false, moved: 0 } },
    });
    const resumed = new sfn.Pass(this, 'Resumed', { parameters: { ...input, 'plan.$': '$.plan', 'loop.$': '$.resume' } });
    const parse = map('ParseRanges', 'ParseRange', worker, 'parseRange', '$.plan.ranges');
    const index = guard(central_('BuildIndex', 'buildIndex', sfn.JsonPath.DISCARD));
    const shards = map('BuildShards', 'BuildShard', worker, 'buildShard', '$.plan.partitions');
    const prepare = guard(central_('Prepare', 'prepare'));
    const select = guard(central_('Select', 'select'));

    // clustering: k-means++ (one map pass per centre), Lloyd (assign, update by column range, converge)
    const seedStart = guard(central_('SeedStart', 'seedStart'));
    const trySeeds = map('TrySeeds', 'TrySeedsPartition', worker, 'trySeeds', '$.plan.partitions');
    const pickSeed = guard(central_('PickSeed', 'pickSeed'));
    const assign = map('Assign', 'AssignPartition', worker, 'assign', '$.plan.partitions');
    const update = map('UpdateCentres', 'UpdateColumns', worker, 'updateCentres', '$.plan.columnRanges');
    const converge = guard(central_('Converge', 'converge'));
    const finish = guard(central_('FinishRestart', 'finishRestart'));
    const continueAsNew = guard(
      central_('ContinueAsNew', 'continueAsNew', sfn.JsonPath.DISCARD, {
        input: { 'version.$': '$.version', 'source.$': '$.source', 'sourceOrder.$': '$.sourceOrder', 'params.$': '$.params', 'options.$': '$.options' },
        'plan.$': '$.plan',
      }),
    );

    // the model: counts and fixClusters, memberships (taste), the hold-out check, publish
    const count = map('CountClusters', 'CountPartition', worker, 'countClusters', '$.plan.partitions');
    const fix = guard(central_('FixClusters', 'fixClusters'));
    const place = map('PlaceUsers', 'PlacePartition', worker, 'placeUsers', '$.plan.partitions');
    const check = guard(central_('Check', 'check'));
    const publishStart = guard(invoke(publish, 'PublishStart', { step: 'publishStart', 'version.$': '$.version', 'loop.$': '$.loop' }, '$.loop'));
    const publishUsers = map('PublishUsers', 'PublishPartition', publish, 'publishUsers', '$.plan.partitions');
    const flip = guard(invoke(publish, 'Flip', { step: 'flip', 'version.$': '$.version', 'loop.$': '$.loop' }, '$.loop'));

    const is = (path: string, value: string | boolean) =>
      typeof value === 'boolean' ? sfn.Condition.booleanEquals(path, value) : sfn.Condition.stringEquals(path, value);
    seedStart.next(trySeeds);
    trySeeds.next(pickSeed);
    pickSeed.next(new sfn.Choice(this, 'Seeded?').when(is('$.loop.next', 'trial'), trySeeds).otherwise(assign));
    assign.next(new sfn.Choice(this, 'FinalPass?').when(is('$.loop.final', true), finish).otherwise(update));
    update.next(converge);
    converge.next(new sfn.Choice(this, 'Converged?').when(is('$.loop.next', 'assign'), assign).otherwise(finish));
    continueAsNew.next(new sfn.Succeed(this, 'Continued'));
    finish.next(
      new sfn.Choice(this, 'NextRestart?')
        .when(is('$.loop.next', 'seed'), seedStart)
        .when(is('$.loop.next', 'assign'), assign)
        .when(is('$.loop.next', 'continue'), continueAsNew)
        .otherwise(count),
    );
    count.next(fix);
    fix.next(new sfn.Choice(this, 'Memberships?').when(is('$.loop.next', 'members'), place).otherwise(check));
    place.next(check);
    check.next(new sfn.Choice(this, 'Publish?').when(is('$.loop.next', 'publish'), publishStart).otherwise(done));
    publishStart.next(new sfn.Choice(this, 'Started?').when(is('$.loop.next', 'publish'), publishUsers).otherwise(done));
    publishUsers.next(flip);
    flip.next(done);
    // a clustering starts with its seeding, or (centres fitted on a sample by Select) with its final pass
    const clustering = new sfn.Choice(this, 'Seeded centrally?').when(is('$.loop.next', 'assign'), assign).otherwise(seedStart);
    prepare.next(new sfn.Choice(this, 'Select?').when(is('$.loop.next', 'select'), select).otherwise(seedStart));
    select.next(clustering);
    plan.next(planned);
    planned.next(new sfn.Choice(this, 'Skip?').when(is('$.plan.skip', true), new sfn.Succeed(this, 'Skipped')).otherwise(parse));
    parse.next(index);
    index.next(shards);
    shards.next(prepare);
    resumed.next(clustering);
    return new sfn.Choice(this, 'Resume?').when(sfn.Condition.isPresent('$.resume'), resumed).otherwise(plan);
  }
}
