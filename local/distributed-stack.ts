// The local stack's training state machine (`npm start -- --distributed`, or --distribute-above BYTES): the
// definition synthesized from the stack runs under the offline executor (local/training-machine.ts) with
// the training functions' real handlers; the S3-triggered function routes uploads to it as in AWS, with the
// same lease and status item. The console waits on `settled`.
import { makeDocClient, makeDynamoClient, awsConfigFromEnv } from '../functions/adapters/aws';
import { DynamoModelStore } from '../functions/adapters/dynamo/store';
import { DynamoTrainingStatus } from '../functions/adapters/dynamo/training';
import type { DistributedRoute } from '../functions/app/distributed/route';
import type { TrainingStatus } from '../functions/ports/training-run';
import { ENV, executionNameOf, type TrainingMode } from '../functions/shared/resources';
import { trainingMachine } from './training-machine';

export interface LocalDistributedOptions {
  mode: Exclude<TrainingMode, 'single'>;
  /** 'auto': uploads above this many bytes go to the state machine */
  aboveBytes?: number;
  /** partitions per training (default: sized from the upload, as in AWS) */
  shards?: number;
  /** the state machine's states as they are entered (the console's progress) */
  onState?: (name: string) => void;
}

export interface LocalDistributed {
  route: DistributedRoute;
  /** the version's training: resolves when its last execution has closed, with the status it left */
  settled(version: string): Promise<TrainingStatus | null>;
}

export async function localDistributed(stage: string, env: NodeJS.ProcessEnv, cacheDir: string, opts: LocalDistributedOptions): Promise<LocalDistributed> {
  const machine = await trainingMachine({
    stage,
    env,
    cacheDir,
    onEvent: (e) => {
      if (e.type === 'StateEntered' && e.state) opts.onState?.(e.state.name);
    },
  });
  const doc = makeDocClient(makeDynamoClient(awsConfigFromEnv(ENV.dynamoEndpoint, env)));
  const clusters = env[ENV.clustersTable]!;
  const status = new DynamoTrainingStatus(doc, clusters);
  return {
    route: {
      mode: opts.mode,
      starter: machine.starter,
      // the single-function training's own lease item: one training at a time, whichever path
      lease: new DynamoModelStore({ doc, usersTable: env[ENV.usersTable]!, clustersTable: clusters, pointerTtlMs: 0 }).lease,
      status,
      ...(opts.aboveBytes !== undefined ? { aboveBytes: opts.aboveBytes } : {}),
      options: opts.shards ? { shards: opts.shards } : {},
    },
    async settled(version) {
      const prefix = executionNameOf(version);
      // continuations (ContinueAsNew) start while the first runs: wait until none of the version's runs
      for (;;) {
        const running = machine.executions.list().filter((e) => e.name.startsWith(prefix) && e.status === 'RUNNING');
        if (running.length === 0) break;
        await Promise.all(running.map((e) => machine.executions.settled(e.name)));
      }
      const s = await status.get();
      return s?.version === version ? s : null;
    },
  };
}
