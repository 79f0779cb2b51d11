// `movierec train --shards N` (N ≥ 2): the same training the AWS state machine runs, on this machine — the
// definition from the synthesized template run by the offline executor against in-process S3 and DynamoDB
// emulators, the ratings file uploaded first, the model assembled from the run's files at the end (the same
// model file format as `movierec train`).
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { executionInput } from '../functions/app/distributed/route';
import type { RunOptions } from '../functions/app/distributed/state';
import { getJson, runKeys } from '../functions/app/distributed/run-files';
import type { Refusal } from '../functions/app/distributed/failed';
import { S3RunStore } from '../functions/adapters/s3-runs';
import { makeS3Client } from '../functions/adapters/aws';
import { sourceOrderOf, versionIdOf } from '../functions/app/upload';
import type { ClusterModel } from '../functions/core/model';
import type { ModelSnapshot } from '../functions/core/snapshot';
import type { TrainOverrides } from '../functions/core/train';
import { InputError } from '../functions/core/types';
import { ENV, executionNameOf } from '../functions/shared/resources';
import { assembleModel } from './distributed-model';
import { functionEnv, startStack } from './emulators';
import { trainingMachine } from './training-machine';
import { WorkerPool } from './worker-pool';

/** The stage whose stack supplies the definition (any stage's state machine has the same shape). */
const STAGE = 'dev';

export interface DistributedTrainOptions extends RunOptions {
  /** run the workers in this many separate processes (default: in this process) */
  processes?: number;
  quiet?: boolean;
}

export async function trainDistributed(
  ratings: string,
  params: TrainOverrides,
  opts: DistributedTrainOptions,
): Promise<{ model: ClusterModel; snapshot: ModelSnapshot; executions: number }> {
  const emu = await startStack(STAGE);
  let pool: WorkerPool | null = null;
  try {
    const env: NodeJS.ProcessEnv = {
      ...functionEnv(STAGE, emu),
    };
    const key = `uploads/${path.basename(ratings)}`;
    const put = await emu.s3.send(
      new PutObjectCommand({ Bucket: emu.bucket, Key: key, Body: createReadStream(ratings), ContentLength: statSync(ratings).size }),
    );
    const ref = { bucket: emu.bucket, key, etag: (put.ETag ?? '').replace(/"/g, ''), eventTime: new Date().toISOString() };
    const version = versionIdOf(ref);
    if (opts.processes) pool = await WorkerPool.start({ size: opts.processes, roles: ['worker', 'central', 'publish'], env });
    let last = '';
    const machine = await trainingMachine({
      stage: STAGE,
      env,
      pool: pool ?? undefined,
      cacheDir: path.join(process.cwd(), '.local', 'cache'),
      onEvent: (e) => {
        if (opts.quiet || e.type !== 'StateEntered' || !e.state) return;
        const name = e.state.name;
        if (name !== last && !/Partition|Range$|Columns$|^Try|\?$/.test(name)) process.stderr.write(`${name}…\n`);
        last = name;
      },
    });
    const { shards, rangeBytes, format, maxRejectedShare, check, allowBelowPopular, threads } = opts;
    const input = executionInput(version, ref, sourceOrderOf(ref), params, { shards, rangeBytes, format, maxRejectedShare, check, allowBelowPopular, threads, publish: 'none' });
    await machine.starter.start(executionNameOf(version), JSON.stringify(input));
    await machine.executions.idle();
    const all = machine.executions.list();
    const runs = new S3RunStore(makeS3Client(emu.s3Config), emu.bucket);
    const refusal = await getJson<Refusal>(runs, runKeys.refusal(version)).catch(() => null);
    if (refusal) throw new InputError(refusal.code, refusal.message, { report: refusal.report });
    const failed = all.find((e) => e.status !== 'SUCCEEDED');
    if (failed) {
      const d = machine.executions.describeExecution(`arn:aws:states:us-east-1:123456789012:execution:${machine.local.machine.name}:${failed.name}`);
      throw new Error(`the training state machine failed: ${d.error}: ${d.cause}`);
    }
    const { model, snapshot } = await assembleModel(runs, version);
    return { model, snapshot, executions: all.length };
  } finally {
    await pool?.stop();
    await emu.stop();
  }
}
