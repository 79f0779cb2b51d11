// The batch export of a real ratings file against `movierec recommend --all`: the local stack (the training
// handler with the dev stage's parameters and an export of every user's top-N) trains FILE from an upload, and
// the CLI trains the same file with the same parameters in its own process; the exported CSV must equal the
// CLI's byte for byte. For MovieLens files, which this repository may not ship (research-use licence):
//
//   node bin/run-ts.js tools/export-parity.ts --ratings ml-latest-small/ratings.csv [--n 10]
//
// Exit code 0 and "equal" when they are; 1 and the first differing line otherwise.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { STAGE_CONFIG } from '../lib/config';
import { startLocalStack } from '../local/stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { ratings: { type: 'string' }, n: { type: 'string' } } });
  if (!values.ratings) throw new Error('usage: tools/export-parity.ts --ratings FILE [--n 10]');
  const ratings = path.resolve(values.ratings);
  const n = Number(values.n ?? 10);
  const root = path.resolve(__dirname, '..');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'movierec-export-parity-'));
  const params = STAGE_CONFIG.dev.training.params;
  const stack = await startLocalStack({ dataDir: path.join(dir, 'data'), fresh: true, port: 0, s3Port: 0, apiKey: 'parity', trainingParams: params, exportTopN: n, retryAttempts: 0 });
  try {
    const t0 = performance.now();
    await stack.upload(ratings, 'uploads/ratings.csv');
    await stack.bridge.idle();
    const version = await stack.activeVersion();
    if (!version) throw new Error('the upload published no model; see reports/ in the local bucket');
    const meta = await stack.versionMeta(version);
    const exp = meta?.export;
    if (exp?.state !== 'written') throw new Error(`the export is ${exp?.state ?? 'missing'}: ${exp?.message ?? ''}`);
    const obj = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: exp.key }));
    const exported = gunzipSync(Buffer.from(await obj.Body!.transformToByteArray())).toString('utf8');
    console.log(`local stack: model ${version} from ${ratings}, export s3://${stack.bucket}/${exp.key}: ${exp.users} users, ${exp.rows} rows, ${exp.bytes} bytes gzip (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    const cli = (args: string[]) => execFileSync(process.execPath, [path.join(root, 'bin', 'movierec.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const model = path.join(dir, 'model.json');
    const recs = path.join(dir, 'recs.csv');
    const trainArgs = ['train', '--ratings', ratings, '--out', model, '--algorithm', params.algorithm!, '--n-init', String(params.nInit), '--random-state', String(params.randomState), '--quiet'];
    cli(trainArgs);
    cli(['recommend', '--model', model, '--all', '--n', String(n), '--out', recs]);
    const local = readFileSync(recs, 'utf8');
    console.log(`CLI: movierec ${trainArgs.slice(0, -1).join(' ').replace(model, 'model.json')}; movierec recommend --model model.json --all --n ${n} --out recs.csv`);
    if (exported === local) {
      console.log(`export vs movierec recommend --all: equal (${exported.split('\n').length - 2} rows, ${Buffer.byteLength(exported)} bytes)`);
      return 0;
    }
    const a = exported.split('\n');
    const b = local.split('\n');
    const i = a.findIndex((line, j) => line !== b[j]);
    console.log(`export vs movierec recommend --all: DIFFERENT at line ${i + 1}: export "${a[i]}", CLI "${b[i]}" (${a.length} vs ${b.length} lines)`);
    return 1;
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
