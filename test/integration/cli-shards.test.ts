// `movierec train --shards 4` as a user runs it (a real process): the training state machine's definition,
// synthesized from the stack, runs offline with 4 partitions against the S3 and DynamoDB emulators, and the
// seed algorithm's model file is the one `--shards 1` (the single function's engine) writes. The data is
// generated with ml-latest-small's shape (610 users, 9,742 movies, 100,836 ratings) so no shared dataset is
// needed; on ml-latest-small itself the same two commands are recorded in docs/SCALE.md.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(600_000);

const root = join(__dirname, '..', '..');
const cli = join(root, 'bin', 'movierec.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: root, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The model file without what differs by design: when it was written and how long each phase took. */
function modelOf(file: string) {
  const m = JSON.parse(readFileSync(file, 'utf8'));
  delete m.createdAt;
  delete m.training.seconds;
  return m;
}

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'movierec-shards-'));
  const g = await run(['generate', '--users', '610', '--movies', '9742', '--ratings', '100836', '--seed', '5', '--out', join(dir, 'ratings.csv')]);
  expect(g.code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('train --algorithm seed --shards 4 writes the --shards 1 model: every assignment, list and inertia (ml-latest-small shape)', async () => {
  // three restarts rather than the default ten keep the test's time down; each restart is compared
  const common = ['train', '--ratings', join(dir, 'ratings.csv'), '--algorithm', 'seed', '--n-init', '3', '--random-state', '3', '--quiet'];
  const [one, four] = await Promise.all([
    run([...common, '--shards', '1', '--out', join(dir, 'm1.json'), '--assignments-out', join(dir, 'a1.csv')]),
    run([...common, '--shards', '4', '--out', join(dir, 'm4.json'), '--assignments-out', join(dir, 'a4.csv')]),
  ]);
  expect([one.code, one.stderr]).toEqual([0, '']);
  expect([four.code, four.stderr]).toEqual([0, '']);
  const a1 = readFileSync(join(dir, 'a1.csv'), 'utf8');
  expect(a1.trim().split('\n')).toHaveLength(611);
  expect(readFileSync(join(dir, 'a4.csv'), 'utf8')).toBe(a1);
  const m1 = modelOf(join(dir, 'm1.json'));
  expect(m1.training.inertias).toHaveLength(3);
  expect(modelOf(join(dir, 'm4.json'))).toEqual(m1);
});
