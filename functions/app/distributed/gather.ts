// Bringing rows of the partitioned matrix into one central step: all of them (selection on data that fits
// one function), a sample (the hold-out check), single rows (k-means++ candidates) or the rows of given
// users (favourites folded in at publish). Reads only what it needs: a partition's row pointers, then
// ranged reads of the wanted rows' columns, nearby rows coalesced into one read.
import type { SectionArray } from '../../core/distributed/binary';
import { partitionOf } from '../../core/distributed/plan';
import type { CsrMatrix } from '../../core/types';
import type { RunStore } from '../../ports/training-run';
import { mapLimit } from './plan';
import { getContainer, readHeader, readSections, runKeys } from './run-files';
import { partitionOfRow, type RunState } from './state';

/** Ranged reads closer than this are merged into one. */
const COALESCE_BYTES = 256 * 1024;

export interface GatheredRows {
  /** the rows in the order asked (binary; columns global, colIds = movie ids) */
  x: CsrMatrix;
  /** matrix-aligned timestamps, when asked and kept */
  times: Float64Array | undefined;
}

export async function movieIndex(runs: RunStore, version: string): Promise<Float64Array> {
  return (await getContainer(runs, runKeys.movies(version))).f64('ids');
}

/** Rows of one partition: its row pointers and ids, then the wanted rows' columns. */
async function partitionRows(
  runs: RunStore,
  version: string,
  q: number,
  local: readonly number[],
  withTimes: boolean,
): Promise<Array<{ rowId: number; cols: Int32Array; times: Float64Array | null }>> {
  const key = runKeys.shard(version, q);
  const header = await readHeader(runs, key);
  const { sections } = await readSections(runs, key, ['rowIds', 'indptr']);
  const indptr = sections.indptr as Int32Array;
  const rowIds = sections.rowIds as Float64Array;
  const idx = header.sections.indices;
  const ts = withTimes ? header.sections.times : undefined;
  // coalesce the wanted rows' byte ranges
  const order = local.slice().sort((a, b) => a - b);
  const groups: Array<{ from: number; to: number; rows: number[] }> = [];
  for (const r of order) {
    const g = groups[groups.length - 1];
    if (g && (indptr[r] - g.to) * 4 <= COALESCE_BYTES) {
      g.to = Math.max(g.to, indptr[r + 1]);
      g.rows.push(r);
    } else groups.push({ from: indptr[r], to: indptr[r + 1], rows: [r] });
  }
  const byRow = new Map<number, { rowId: number; cols: Int32Array; times: Float64Array | null }>();
  await mapLimit(groups, 8, async (g) => {
    const cols = await rangeOf(runs, key, idx.offset, 4, g.from, g.to, Int32Array);
    const times = ts ? await rangeOf(runs, key, ts.offset, 8, g.from, g.to, Float64Array) : null;
    for (const r of g.rows) {
      byRow.set(r, {
        rowId: rowIds[r],
        cols: cols.slice(indptr[r] - g.from, indptr[r + 1] - g.from),
        times: times ? times.slice(indptr[r] - g.from, indptr[r + 1] - g.from) : null,
      });
    }
  });
  return local.map((r) => byRow.get(r)!);
}

async function rangeOf<T extends Int32Array | Float64Array>(
  runs: RunStore,
  key: string,
  offset: number,
  size: number,
  from: number,
  to: number,
  Ctor: { new (b: ArrayBuffer): T },
): Promise<T> {
  const bytes = await runs.getRange(key, offset + from * size, offset + to * size);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Ctor(copy.buffer);
}

/** The given global rows (any order, no repeats needed), as one matrix in that order. */
export async function gatherRows(runs: RunStore, run: RunState, rows: readonly number[], opts: { times?: boolean } = {}): Promise<GatheredRows> {
  const shards = run.shards!;
  const withTimes = !!opts.times;
  const byPart = new Map<number, number[]>();
  for (const g of rows) {
    const q = partitionOfRow(shards.rowStarts, g);
    let list = byPart.get(q);
    if (!list) byPart.set(q, (list = []));
    list.push(g - shards.rowStarts[q]);
  }
  const fetched = new Map<number, { rowId: number; cols: Int32Array; times: Float64Array | null }>();
  await mapLimit([...byPart.keys()], 8, async (q) => {
    const local = byPart.get(q)!;
    const got = await partitionRows(runs, run.version, q, local, withTimes);
    local.forEach((r, i) => fetched.set(shards.rowStarts[q] + r, got[i]));
  });
  return assemble(rows.map((g) => fetched.get(g)!), await movieIndex(runs, run.version), withTimes);
}

/** Every row of every partition (data that fits one function). */
export async function gatherAll(runs: RunStore, run: RunState, opts: { times?: boolean } = {}): Promise<GatheredRows> {
  const parts = await Promise.all(
    run.shards!.rows.map((_, q) =>
      readSections(runs, runKeys.shard(run.version, q), ['rowIds', 'indptr', 'indices', ...(opts.times ? ['times?'] : [])]),
    ),
  );
  const rows: Array<{ rowId: number; cols: Int32Array; times: Float64Array | null }> = [];
  for (const { sections } of parts) {
    const s = sections as Record<string, SectionArray>;
    const indptr = s.indptr as Int32Array;
    const ids = s.rowIds as Float64Array;
    for (let r = 0; r < ids.length; r++) {
      rows.push({
        rowId: ids[r],
        cols: (s.indices as Int32Array).subarray(indptr[r], indptr[r + 1]),
        times: s.times ? (s.times as Float64Array).subarray(indptr[r], indptr[r + 1]) : null,
      });
    }
  }
  return assemble(rows, await movieIndex(runs, run.version), !!opts.times);
}

function assemble(rows: ReadonlyArray<{ rowId: number; cols: Int32Array; times: Float64Array | null }>, colIds: Float64Array, withTimes: boolean): GatheredRows {
  let nnz = 0;
  for (const r of rows) nnz += r.cols.length;
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const rowIds = new Float64Array(rows.length);
  const times = withTimes ? new Float64Array(nnz) : undefined;
  let w = 0;
  rows.forEach((r, i) => {
    rowIds[i] = r.rowId;
    indices.set(r.cols, w);
    if (times && r.times) times.set(r.times, w);
    w += r.cols.length;
    indptr[i + 1] = w;
  });
  const x: CsrMatrix = { nRows: rows.length, nCols: colIds.length, indptr, indices, values: null, rowIds, colIds };
  return { x, times: withTimes && rows.every((r) => r.times !== null) ? times : undefined };
}

/** Global rows of the given user ids (−1 for users the matrix does not hold). */
export async function rowsOfUsers(runs: RunStore, run: RunState, userIds: readonly number[]): Promise<Map<number, number>> {
  const { bounds } = run.plan;
  const shards = run.shards!;
  const byPart = new Map<number, number[]>();
  for (const u of userIds) {
    const q = partitionOf(u, bounds);
    let list = byPart.get(q);
    if (!list) byPart.set(q, (list = []));
    list.push(u);
  }
  const out = new Map<number, number>();
  await mapLimit([...byPart.keys()], 8, async (q) => {
    const ids = (await readSections(runs, runKeys.shard(run.version, q), ['rowIds'])).sections.rowIds as Float64Array;
    for (const u of byPart.get(q)!) {
      let lo = 0;
      let hi = ids.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (ids[mid] === u) {
          found = mid;
          break;
        }
        if (ids[mid] < u) lo = mid + 1;
        else hi = mid - 1;
      }
      out.set(u, found < 0 ? -1 : shards.rowStarts[q] + found);
    }
  });
  return out;
}
