// The pieces of the distributed training that must give the single-function numbers exactly: block
// reductions split across partitions, the k-means++ draw over block sums, the binary run files, and the
// parse pass (byte ranges) whose data report, matrix and timestamps must be the single reader's.
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { Container, encode, type SectionArray } from '../../functions/core/distributed/binary';
import { blockPart, combineBlocks, searchBlocked, totalOf, BLOCK_SIZE } from '../../functions/core/distributed/blocks';
import { blockedCumsum, searchLeft } from '../../functions/core/kmeans/seeding';
import { planRun } from '../../functions/app/distributed/plan';
import { buildIndex, buildShardStep, loadShard, parseRange } from '../../functions/app/distributed/shards';
import { prepare } from '../../functions/app/distributed/prepare';
import { readSections, runKeys } from '../../functions/app/distributed/run-files';
import { loadRun } from '../../functions/app/distributed/state';
import { buildMatrix } from '../../functions/core/matrix';
import { readRatings } from '../../functions/core/ratings';
import { cellTimes } from '../../functions/core/recommender/holdout';
import { InputError } from '../../functions/core/types';
import { MemoryRunStore, MemoryUpload } from '../support/memory-runs';

/** Engine order: per block from 0, blocks in order. */
function engineBlocks(values: Float64Array): Float64Array {
  const nb = Math.ceil(values.length / BLOCK_SIZE);
  const out = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    let s = 0;
    for (let i = b * BLOCK_SIZE; i < Math.min(values.length, (b + 1) * BLOCK_SIZE); i++) s += values[i];
    out[b] = s;
  }
  return out;
}

// n rows cut at up to 8 places (repeated cuts: empty partitions)
const partitioning = fc
  .integer({ min: 2, max: 1500 })
  .chain((n) => fc.tuple(fc.constant(n), fc.array(fc.integer({ min: 1, max: n - 1 }), { maxLength: 8 }), fc.integer()));

describe('block reductions across partitions', () => {
  test('every block sum equals the engine’s, whatever the partition bounds', () => {
    fc.assert(
      fc.property(partitioning, ([n, cuts, seed]) => {
        let s = seed;
        const values = Float64Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) | 0), Math.abs(s) / 2 ** 20 + 1e-7));
        const starts = [0, ...cuts.sort((a, b) => a - b)];
        const parts = starts.map((g0, q) => blockPart(values.subarray(g0, starts[q + 1] ?? n), g0, n));
        const sums = combineBlocks(parts, starts, n);
        expect(Array.from(sums)).toEqual(Array.from(engineBlocks(values)));
      }),
      { numRuns: 200 },
    );
  });

  test('the k-means++ draw over block sums finds the engine’s row', async () => {
    const n = 1000;
    const values = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : ((i * 2654435761) % 1000) / 37));
    const cum = new Float64Array(n);
    blockedCumsum(values, cum, BLOCK_SIZE);
    const sums = engineBlocks(values);
    expect(cum[n - 1]).toBe(totalOf(sums)); // the last cumulative sum is the potential
    for (const u of [0, 1e-9, 0.1, 0.25, 0.5, 0.74, 0.999999]) {
      const v = u * totalOf(sums);
      const row = await searchBlocked(sums, v, n, async (b) => values.subarray(b * BLOCK_SIZE, Math.min(n, (b + 1) * BLOCK_SIZE)));
      expect(row).toBe(searchLeft(cum, v));
    }
  });
});

test('binary run files: sections round-trip, and a section is read alone (or a slice of it)', async () => {
  const a = Float64Array.from([1.5, -2, Math.PI]);
  const b = Int32Array.from([7, 8, 9, 10]);
  const c = Uint8Array.from([1, 2, 3]);
  const bytes = encode({ note: 'x' }, { a, c, b });
  const box = new Container<{ note: string }>(bytes);
  expect(box.meta.note).toBe('x');
  expect(Array.from(box.f64('a'))).toEqual(Array.from(a));
  expect(Array.from(box.i32('b'))).toEqual(Array.from(b));
  const runs = new MemoryRunStore();
  await runs.put('runs/v/x.bin', bytes);
  const { sections } = await readSections(runs, 'runs/v/x.bin', ['b', 'missing?'], { b: [1, 3] });
  expect(Array.from(sections.b as Int32Array)).toEqual([8, 9]);
  expect('missing' in sections).toBe(false);
});

test('binary run files: the header never overlaps the first section, however long its layout takes to settle', () => {
  // an assign pass's shape (labels, then per column range cols/ptr/clusters/sums): as the header grows, the
  // offsets gain digits, which grows the header again; some lengths need more than three layout passes
  const shape = (range: number, size: number): Record<string, SectionArray> => ({
    [`c${range}`]: new Int32Array(250),
    [`p${range}`]: new Int32Array(251),
    [`k${range}`]: new Uint8Array(size).fill(range + 1),
    [`s${range}`]: new Float64Array(size).fill(range + 0.5),
  });
  let checked = 0;
  for (let metaChars = 9_900; metaChars < 10_100; metaChars++) {
    const sections: Record<string, SectionArray> = { labels: new Int32Array(257).fill(7) };
    [1743, 1739, 1572, 1657, 1773, 1649, 1603, 1802].forEach((size, r) => Object.assign(sections, shape(r, size)));
    const box = new Container<{ pad: string }>(encode({ pad: 'm'.repeat(metaChars) }, sections));
    expect(box.meta.pad.length).toBe(metaChars);
    expect(box.i32('labels')[256]).toBe(7);
    for (let r = 0; r < 8; r++) expect(Array.from(box.f64(`s${r}`).subarray(0, 2))).toEqual([r + 0.5, r + 0.5]);
    checked++;
  }
  expect(checked).toBe(200);
});

/** Plan, parse and index a file as the state machine does; the run's report, or the refusal. */
async function parseDistributed(bytes: Buffer, opts: { shards: number; rangeBytes?: number; params?: object }) {
  const runs = new MemoryRunStore();
  const deps = { runs, upload: new MemoryUpload(bytes) };
  const input = { version: 'v', source: { bucket: 'b', key: 'uploads/r.csv' }, sourceOrder: 'o', params: { algorithm: 'taste' as const, ...opts.params }, options: opts };
  const plan = await planRun(input, deps);
  for (const r of plan.ranges) await parseRange({ step: 'parseRange', version: 'v', item: r }, deps);
  await buildIndex({ step: 'buildIndex', version: 'v' }, deps);
  for (const q of plan.partitions) await buildShardStep({ step: 'buildShard', version: 'v', item: q }, deps);
  await prepare({ step: 'prepare', version: 'v' }, deps);
  return { runs, run: await loadRun(runs, 'v'), plan };
}

async function readSingle(bytes: Buffer) {
  const s = new PassThrough();
  s.end(bytes);
  return readRatings(s, { sourceName: 's3://b/uploads/r.csv', withTimestamps: true });
}

const messy = (() => {
  const lines = ['userId,movieId,rating,timestamp'];
  let t = 1000;
  for (let u = 1; u <= 300; u++) {
    for (let k = 0; k < 12; k++) lines.push(`${u * 7},${(u * 13 + k * 17) % 97 + 1},${(k % 5) + 1},${t++}`);
    if (u % 61 === 0) lines.push(`${u},oops,3,${t}`); // a bad movie id
    if (u % 97 === 0) lines.push(''); // a blank line
    if (u % 50 === 0) lines.push(`${u * 7},${(u * 13) % 97 + 1},4,${t - 500}`); // a duplicate, earlier
  }
  return Buffer.from(lines.join('\r\n') + '\r\n');
})();

/** 14 users (a model needs 12) with two or three ratings each, in a header-less format with separator `sep`. */
function headerless(sep: string): string {
  const rows: string[] = [];
  for (let u = 0; u < 14; u++) for (let j = 0; j < 2 + (u % 2); j++) rows.push([7 + 2 * u, 3 + ((u * 5 + j * 3) % 11), (u + j) % 5 + 1, 100 + rows.length].join(sep));
  return rows.join('\n') + '\n';
}

describe.each([1, 3, 7])('the parse pass with %i partition(s)', (shards) => {
  test('its data report, matrix rows and timestamps are the single reader’s', async () => {
    const { runs, run } = await parseDistributed(messy, { shards, rangeBytes: 4096 });
    expect(run.plan.ranges.length).toBeGreaterThan(shards); // several ranges per partition: cuts inside the file
    const single = await readSingle(messy);
    const { matrix, duplicatesCollapsed } = buildMatrix(single.interactions);
    expect(run.report).toEqual({ ...single.report, users: matrix.nRows, movies: matrix.nCols, interactions: matrix.indices.length, duplicatesCollapsed });
    const times = cellTimes(single.interactions, matrix)!;
    const rows: number[] = [];
    const cols: number[] = [];
    const ts: number[] = [];
    const indptr: number[] = [0];
    for (let q = 0; q < run.shards!.rows.length; q++) {
      const s = await loadShard(runs, 'v', q, run.index!.d, 'binary', { times: true });
      rows.push(...s.binary.rowIds);
      for (let r = 0; r < s.binary.nRows; r++) indptr.push(indptr[indptr.length - 1] + s.binary.indptr[r + 1] - s.binary.indptr[r]);
      cols.push(...s.binary.indices);
      ts.push(...s.times!);
    }
    expect(rows).toEqual(Array.from(matrix.rowIds));
    expect(indptr).toEqual(Array.from(matrix.indptr));
    expect(cols).toEqual(Array.from(matrix.indices));
    expect(ts).toEqual(Array.from(times));
  });
});

test('too many bad rows: the single reader’s refusal, word for word', async () => {
  const bad = Buffer.from(['userId,movieId', ...Array.from({ length: 200 }, (_, i) => (i % 20 === 5 ? `x${i},1` : `${i},${i % 9}`))].join('\n'));
  const single = await readSingle(bad).catch((e: InputError) => e);
  expect(single).toBeInstanceOf(InputError);
  const distributed = await parseDistributed(bad, { shards: 3, rangeBytes: 256 }).catch((e: InputError) => e);
  expect(distributed).toBeInstanceOf(InputError);
  expect((distributed as InputError).code).toBe((single as InputError).code);
  expect((distributed as InputError).message).toBe((single as InputError).message);
});

test.each([
  ['a header-less CSV', headerless(',')],
  ['u.data (tabs)', headerless('\t')],
  ['ratings.dat (::)', headerless('::')],
])('%s parses to the single reader’s matrix', async (_name, text) => {
  const bytes = Buffer.from(text.repeat(1));
  const { runs, run } = await parseDistributed(bytes, { shards: 2, rangeBytes: 64, params: { k: 2 } });
  const single = await readSingle(bytes);
  expect(run.report!.format).toBe(single.report.format);
  expect(run.report!.rowsAccepted).toBe(single.report.rowsAccepted);
  const { matrix } = buildMatrix(single.interactions);
  const ids: number[] = [];
  for (let q = 0; q < run.shards!.rows.length; q++) ids.push(...(await loadShard(runs, 'v', q, run.index!.d, 'binary')).binary.rowIds);
  expect(ids).toEqual(Array.from(matrix.rowIds));
  expect(run.index!.d).toBe(matrix.nCols);
  expect(runs.objects.has(runKeys.movies('v'))).toBe(true);
});
