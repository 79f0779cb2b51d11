// `movierec train` given more than it can hold, as a user runs it (a real process, real files): a gzip row bomb
// is held as its distinct (user, movie) pairs and refused for what it really holds, and a file whose distinct
// pairs need more memory than training may plan with is refused while reading, naming the flag and the number
// that would accept it. Peak RSS of both (and of a 1 GiB bomb) is measured by bench/hostile.ts, not here.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { memoryNeededMb } from '../../functions/core/memory';
import { runCli as run } from '../support/cli';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'movierec-cli-memory-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('movierec train with more than it can hold', () => {
  test('a gzip row bomb (256 MiB of one valid row in 256 KB): every row read, held as one pair, refused as one user with the minimum it needs; no model written', async () => {
    // a multi-member gzip: 256 members of 1 MiB each, read back to back
    const member = gzipSync(Buffer.from('1,2\n'.repeat(2 ** 18)), { level: 9 });
    const bomb = join(dir, 'bomb.csv.gz');
    writeFileSync(bomb, Buffer.concat([gzipSync('userId,movieId\n'), ...Array.from({ length: 256 }, () => member)]));
    const out = join(dir, 'bomb-model.json');
    const r = await run(['train', '--ratings', bomb, '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`movierec train: ${bomb} has 1 user, a model needs at least 12 (2 clusters of 6 users).`);
    expect(existsSync(out)).toBe(false);
  });

  test('distinct pairs that need more than --memory: refused while reading, naming the memory the whole file needs as the --memory to pass', async () => {
    // 3,000 users × 100 distinct movies each: 300,000 pairs, more than 300 MB lets training plan for
    const rows: string[] = [];
    for (let u = 1; u <= 3000; u++) for (let j = 0; j < 100; j++) rows.push(`${u},${1 + ((u * 7 + j * 13) % 5000)}`);
    const file = join(dir, 'distinct.csv');
    writeFileSync(file, `userId,movieId\n${rows.join('\n')}\n`);
    const out = join(dir, 'distinct-model.json');
    const r = await run(['train', '--ratings', file, '--out', out, '--quiet', '--memory', '300']);
    expect(r.code).toBe(1);
    const m = /^movierec train: .*distinct\.csv: ([\d,]+) distinct \(user, movie\) pairs of [\d,]+ users and [\d,]+ movies after (\d+)% of the file already need more memory than --memory 300 can give training; the whole file needs about ([\d,]+) MB: pass --memory (\d+)\.$/.exec(r.stderr.trim());
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThan(100); // refused before the end of the file
    expect(m![3].replace(/,/g, '')).toBe(m![4]);
    // more than it had, and no more than the whole file (300,000 pairs, 3,000 users, 5,000 movies) needs
    expect(Number(m![4])).toBeGreaterThan(300);
    expect(Number(m![4])).toBeLessThanOrEqual(memoryNeededMb({ pairs: 300_000, users: 3000, movies: 5000 }));
    expect(existsSync(out)).toBe(false);
  });

  test('--memory must be a number of megabytes', async () => {
    const r = await run(['train', '--ratings', join(dir, 'none.csv'), '--out', join(dir, 'x.json'), '--memory', 'lots']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('movierec train: --memory must be an integer between 64 and 1048576, got "lots".');
  });
});
