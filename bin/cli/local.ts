// `movierec local` (what `npm start` runs): the whole serverless system on this machine, no AWS account.
// The stack itself is local/stack.ts; this file is its console: arguments, what is printed, signals.
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { generateRatings } from '../../offline/generate';
import { InputError } from '../../functions/core/types';
import { carriedNote } from '../../functions/app/active-model';
import { rejectionReportKey, type UploadResult as RecordResult } from '../../functions/app/upload';
import { exportTopNFromEnv, paramsFromEnv } from '../../functions/handlers/train';
import { ENV, S3_PREFIXES, STAGES, type Stage } from '../../functions/shared/resources';
import type { BridgeEvent } from '../../local/training-bridge';
import { type LocalStack, startLocalStack, uploadKeyFor } from '../../local/stack';
import { trainProgress } from './progress';
import { assertReadable, fmtInt, fmtSeconds, intOpt, parse } from './util';

const SAMPLE_KEY = `${S3_PREFIXES.uploads}sample-ratings.csv`;

/** The generated sample of the first start: deterministic, kept in the data folder for the next --fresh. */
async function ensureSample(dataDir: string, users: number): Promise<string> {
  const file = path.join(dataDir, `sample-ratings-${users}.csv`);
  if (existsSync(file)) return file;
  const movies = Math.max(50, Math.min(5000, Math.round(users * 0.7)));
  const opts = { users, movies, ratings: users * 50, clusters: 8, seed: 0 };
  console.log(`generating a sample: ${fmtInt(users)} users, ${fmtInt(movies)} movies, ${fmtInt(opts.ratings)} ratings (movierec generate)`);
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  await generateRatings(opts, out);
  out.end();
  await new Promise<void>((resolve, reject) => out.on('finish', resolve).on('error', reject));
  renameSync(tmp, file);
  return file;
}

type Outcome = { results: RecordResult[]; seconds: number } | { error: Error };

/** Prints what the training handler does, and lets the start-up wait for one upload's outcome. */
function trainingConsole(getStack: () => LocalStack | null) {
  const waiters = new Map<string, (o: Outcome) => void>();
  let progress: ReturnType<typeof trainProgress> | null = null;
  const describe = async (r: RecordResult, seconds: number) => {
    const stack = getStack();
    if (!stack) return;
    if (r.status === 'published' || r.status === 'already-published') {
      const meta = r.version ? await stack.versionMeta(r.version).catch(() => null) : null;
      const what = meta ? `${fmtInt(meta.users)} users in ${meta.clusters.length} clusters` : '';
      const note = r.status === 'already-published' ? ' (this file was already trained; nothing new to publish)' : '';
      console.log(`model ${r.version} is live: ${what}, from ${r.key} in ${fmtSeconds(seconds)}${note}`);
      const carried = meta?.summary?.favouritesCarriedOver as { count: number; users: number } | undefined;
      if (carried?.count) console.log(`  ${carriedNote(carried)}`);
    } else if (r.status === 'rejected') {
      const report = await stack.readReport(r.reportKey ?? rejectionReportKey(r.key));
      const reason = (report?.reason as { message?: string } | undefined)?.message ?? 'see the report';
      console.log(`${r.key} was refused, the active model is unchanged: ${reason}`);
      console.log(`  report: ${stack.s3Endpoint}/${stack.bucket}/${r.reportKey}`);
    } else if (r.status === 'movies-loaded') {
      console.log(`movie catalogue loaded from ${r.key}: titles and genres now appear in answers`);
    } else if (r.status === 'training-started' && stack.distributed && r.version) {
      console.log(`${r.key} is training on the state machine (execution model-${r.version}; GET /models/active shows its phase) …`);
      const status = await stack.distributed.settled(r.version);
      const took = status ? (Date.parse(status.updatedAt) - Date.parse(status.startedAt)) / 1000 : seconds;
      if (status?.phase === 'published') {
        await describe({ ...r, status: 'published' }, took);
      } else if (status?.phase === 'rejected') {
        await describe({ ...r, status: 'rejected', reportKey: rejectionReportKey(r.key) }, took);
      } else {
        console.log(`training ${r.key} on the state machine ended ${status?.phase ?? 'without a status'}${status?.error ? `: ${status.error}` : ''}`);
      }
    } else if (r.status === 'stale') {
      console.log(`${r.key} is older than the active model's source; nothing published`);
    } else if (r.status !== 'ignored') {
      console.log(`${r.key}: ${r.status}`);
    }
  };
  const onEvent = (e: BridgeEvent) => {
    if (e.type === 'replayed') {
      console.log(`${e.keys.length === 1 ? 'an upload' : `${e.keys.length} uploads`} interrupted by the last stop, trained again now: ${e.keys.join(', ')}`);
      return;
    }
    if (e.type === 'start') {
      const what = /^movies\.csv(\.gz)?$/i.test(path.posix.basename(e.key)) ? 'reading the movie catalogue' : 'training';
      console.log(e.attempt ? `${what} ${e.key} again (retry ${e.attempt})` : `${what} ${e.key} …`);
      progress = trainProgress(true);
      return;
    }
    progress?.stop();
    progress = null;
    if (e.type === 'retry') {
      console.log(`training ${e.key} failed (${e.error.message}); retrying, as Lambda does`);
      return;
    }
    const settle = (o: Outcome) => {
      waiters.get(e.key)?.(o);
      waiters.delete(e.key);
    };
    if (e.type === 'failed') {
      console.log(`training ${e.key} failed: ${e.error.message}`);
      settle({ error: e.error });
      return;
    }
    void Promise.all(e.results.map((r) => describe(r, e.seconds))).then(() => settle({ results: e.results, seconds: e.seconds }));
  };
  return {
    onEvent,
    onProgress: (p: Parameters<ReturnType<typeof trainProgress>['onProgress']>[0]) => progress?.onProgress(p),
    waitFor: (key: string) => new Promise<Outcome>((resolve) => waiters.set(key, resolve)),
  };
}

function printExamples(s: LocalStack): void {
  const h = `-H 'x-api-key: ${s.apiKey}'`;
  const url = s.apiUrl;
  console.log(
    [
      '',
      'Try it (any user id works; users the model does not know get the most popular movies):',
      `  curl ${h} '${url}/users/1/recommendations?n=5'`,
      `  curl ${h} '${url}/users/1/recommendations?n=5&exclude=1,2,3'   (genre=…, excludeGenre=… once movies.csv is uploaded)`,
      `  curl ${h} '${url}/movies/1/similar?n=5'`,
      `  curl ${h} ${url}/users/1/movies`,
      `  curl ${h} -H 'content-type: application/json' -d '{"movieId": 318}' ${url}/users/1/movies`,
      `  curl ${h} ${url}/models/active`,
      `  curl ${h} ${url}/openapi.json`,
      '',
      'Train on another ratings file (userId,movieId[,rating,timestamp]); the model switches when training ends:',
      `  npx movierec upload FILE`,
      `  curl -T FILE ${s.s3Endpoint}/${s.bucket}/${S3_PREFIXES.uploads}NAME.csv`,
      '',
      `Ctrl-C stops everything; data stays in ${path.relative(process.cwd(), s.dataDir) || '.'} (npm start -- --fresh starts over).`,
    ].join('\n'),
  );
}

async function answers(s: LocalStack): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${s.apiPort}/health`, { headers: { 'x-api-key': s.apiKey } });
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function localCommand(argv: string[]): Promise<void> {
  const a = parse('local', argv, {
    port: { type: 'string' },
    's3-port': { type: 'string' },
    fresh: { type: 'boolean' },
    ratings: { type: 'string' },
    'sample-users': { type: 'string' },
    'data-dir': { type: 'string' },
    stage: { type: 'string' },
    'training-memory': { type: 'string' },
    verbose: { type: 'boolean' },
    distributed: { type: 'boolean' },
    'distribute-above': { type: 'string' },
    shards: { type: 'string' },
  });
  const port = intOpt(a.port ?? process.env.PORT, '--port', 3000, 0, 65535);
  const s3Port = intOpt(a['s3-port'], '--s3-port', 4569, 0, 65535);
  const sampleUsers = intOpt(a['sample-users'], '--sample-users', 3000, 20, 1_000_000);
  if (a.ratings) await assertReadable(a.ratings, 'The ratings file');
  const stage = (a.stage ?? 'dev') as Stage;
  if (!STAGES.includes(stage)) throw new InputError('bad_arg', `--stage must be one of ${STAGES.join(', ')}, got "${stage}".`);
  // the stage's training settings, as lib/ gives them to the training Lambda; TRAINING_PARAMS overrides them
  const { STAGE_CONFIG } = await import('../../lib/config');
  const training = STAGE_CONFIG[stage].training;
  const trainingParams = process.env[ENV.trainingParams] ? paramsFromEnv(process.env) : training.params;
  // the stage's batch export (off in dev); EXPORT_TOP_N overrides it, as the stack's variable would
  const exportTopN = process.env[ENV.exportTopN] ? exportTopNFromEnv(process.env) : STAGE_CONFIG[stage].exports.topN;
  const trainingMemoryMb = intOpt(a['training-memory'], '--training-memory', training.memorySize, 128, 1_048_576);

  let stack: LocalStack | null = null;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait
    stopping = true;
    console.log(`\n${signal}: stopping the API, S3 and DynamoDB …`);
    const s = stack;
    void (s ? s.stop() : Promise.resolve()).then(
      () => {
        console.log('stopped.');
        process.exit(0);
      },
      (e) => {
        console.error(`movierec local: stopping failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const t0 = performance.now();
  const tc = trainingConsole(() => stack);
  const above = a['distribute-above'] === undefined ? undefined : intOpt(a['distribute-above'], '--distribute-above', 0, 0);
  let lastState = '';
  const distributed =
    a.distributed || above !== undefined
      ? {
          mode: a.distributed ? ('distributed' as const) : ('auto' as const),
          aboveBytes: above,
          shards: a.shards === undefined ? undefined : intOpt(a.shards, '--shards', 4, 1, 1000),
          onState: (name: string) => {
            // the workflow's own steps, not each partition's
            if (name !== lastState && !/Partition|Range$|Columns$|\?$|^Planned$/.test(name)) process.stderr.write(`  ${name}\n`);
            lastState = name;
          },
        }
      : undefined;
  if (distributed) console.log(`training past one function: uploads ${a.distributed ? 'all' : `above ${fmtInt(above!)} bytes`} train on the state machine (offline executor)`);
  stack = await startLocalStack({
    dataDir: a['data-dir'] ?? '.local',
    fresh: a.fresh,
    port,
    s3Port,
    stage,
    trainingParams,
    exportTopN,
    retryAttempts: training.retryAttempts,
    trainingMemoryMb,
    verbose: a.verbose,
    onBridgeEvent: tc.onEvent,
    onTrainProgress: tc.onProgress,
    onApiError: (e) => console.error(`API handler error: ${(e as Error)?.message ?? e}`),
    distributed,
  });
  if (stopping) return;
  const s = stack;
  const keyNote = {
    option: '',
    env: ' (from MOVIEREC_API_KEY)',
    saved: ` (saved in ${path.join(path.relative(process.cwd(), s.dataDir) || '.', 'api-key')})`,
    generated: ` (new, saved in ${path.join(path.relative(process.cwd(), s.dataDir) || '.', 'api-key')}; set MOVIEREC_API_KEY to choose your own)`,
  }[s.apiKeySource];
  console.log(
    [
      `movierec local stack (stage ${s.stage}${a.fresh ? ', fresh' : ''}) — the Lambda handlers, no AWS account`,
      `  S3 (s3rver)          ${s.s3Endpoint}  bucket ${s.bucket}`,
      `  DynamoDB (dynalite)  tables ${s.tables.users}, ${s.tables.clusters}`,
      `  API                  ${s.apiUrl}`,
      `  API key              ${s.apiKey}${keyNote}`,
      `  training             a process per upload, ${fmtInt(s.trainingMemoryMb)} MB${s.trainingMemoryMb < trainingMemoryMb ? ` (all this machine has free; --training-memory asked ${fmtInt(trainingMemoryMb)})` : ''}`,
    ].join('\n'),
  );

  try {
    const active = await s.activeVersion();
    if (a.ratings || !active) {
      const file = a.ratings ?? (await ensureSample(s.dataDir, sampleUsers));
      const key = a.ratings ? uploadKeyFor(file) : SAMPLE_KEY;
      console.log(`uploading ${path.basename(file)} to s3://${s.bucket}/${key} (the upload event starts training)`);
      const outcome = tc.waitFor(key);
      await s.upload(file, key);
      await outcome;
      if (stopping) return;
    } else {
      const meta = await s.versionMeta(active);
      console.log(`model ${active} is live (kept from the last run${meta ? `: ${fmtInt(meta.users)} users, trained from ${meta.source.key}` : ''})`);
    }
    printExamples(s);
    for (let i = 0; !(await answers(s)); i++) {
      if (i >= 50) throw new Error(`the API at ${s.apiUrl} does not answer /health`);
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`(started in ${fmtSeconds((performance.now() - t0) / 1000)})`);
    console.log(`ready: ${s.apiUrl}`);
  } catch (e) {
    // never leave the emulators listening behind an error
    if (!stopping) await s.stop().catch(() => undefined);
    throw e;
  }
  await new Promise<never>(() => undefined); // runs until a signal
}
