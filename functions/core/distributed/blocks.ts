// Row-block reductions across partitions, exactly as the single-function engine sums them. The engine
// sums per-row quantities (potentials, inertia) within fixed blocks of BLOCK_SIZE rows, from zero, and
// then the block totals in block order. Partitions are contiguous row ranges whose bounds need not fall on
// block bounds: a partition sums the blocks it holds whole and hands over its raw values of the (at most
// two) blocks it shares with a neighbour; the reducer sums those blocks itself, rows in order. The totals
// are then bit-identical to the engine's, whatever the partitioning.
import { BLOCK_SIZE } from '../kmeans';

export { BLOCK_SIZE };

/** A partition's share of one per-row quantity. */
export interface BlockPart {
  /** global index of the first block this partition sums whole (sums.length blocks from there) */
  first: number;
  sums: number[];
  /** raw values of rows in the block shared with the previous partition (its global rows from rowStart) */
  head: number[];
  /** raw values of rows in the block shared with the next partition */
  tail: number[];
}

/** Blocks of `n` rows: block b is rows [b·BS, min((b+1)·BS, n)). */
export const blockCount = (n: number) => Math.ceil(n / BLOCK_SIZE);

/**
 * The partition of global rows [g0, g0 + values.length) of `n`: whole blocks summed, shared ones raw. A
 * block is whole when all its rows are in this partition. With no whole block (a small partition inside
 * one block, or straddling two), every value is in head/tail.
 */
export function blockPart(values: ArrayLike<number>, g0: number, n: number): BlockPart {
  const g1 = g0 + values.length;
  const bs = BLOCK_SIZE;
  const firstWhole = Math.ceil(g0 / bs);
  // a block is whole here if it ends (at its own end or at n) no later than g1
  let endWhole = Math.floor(g1 / bs);
  if (g1 === n && n % bs !== 0 && Math.floor(n / bs) >= firstWhole) endWhole = Math.ceil(n / bs);
  const part: BlockPart = { first: firstWhole, sums: [], head: [], tail: [] };
  if (endWhole <= firstWhole) {
    // no whole block: the rows belong to one or two shared blocks
    const split = Math.min(g1, (Math.floor(g0 / bs) + 1) * bs);
    for (let g = g0; g < g1; g++) (g < split ? part.head : part.tail).push(values[g - g0]);
    part.first = firstWhole;
    return part;
  }
  const wholeStart = firstWhole * bs;
  const wholeEnd = Math.min(n, endWhole * bs);
  for (let g = g0; g < wholeStart; g++) part.head.push(values[g - g0]);
  for (let b = firstWhole; b < endWhole; b++) {
    let s = 0;
    for (let g = b * bs, e = Math.min(n, (b + 1) * bs); g < e; g++) s += values[g - g0];
    part.sums.push(s);
  }
  for (let g = wholeEnd; g < g1; g++) part.tail.push(values[g - g0]);
  return part;
}

/**
 * Every block's sum, from the partitions' parts in partition order (their row ranges contiguous from 0 to
 * n). A shared block is summed here from the raw values its partitions handed over, rows in order.
 */
export function combineBlocks(parts: readonly BlockPart[], rowStarts: readonly number[], n: number): Float64Array {
  const nb = blockCount(n);
  const sums = new Float64Array(nb);
  const have = new Uint8Array(nb);
  // raw values by global row for the shared blocks
  const raw = new Map<number, number[]>();
  const addRaw = (startRow: number, vals: readonly number[]) => {
    for (let i = 0; i < vals.length; i++) {
      const g = startRow + i;
      const b = Math.floor(g / BLOCK_SIZE);
      let list = raw.get(b);
      if (!list) raw.set(b, (list = []));
      list.push(vals[i]);
    }
  };
  parts.forEach((p, q) => {
    const g0 = rowStarts[q];
    addRaw(g0, p.head);
    p.sums.forEach((s, i) => {
      sums[p.first + i] = s;
      have[p.first + i] = 1;
    });
    const wholeRows = p.sums.length === 0 ? 0 : Math.min(n, (p.first + p.sums.length) * BLOCK_SIZE) - p.first * BLOCK_SIZE;
    addRaw(g0 + p.head.length + wholeRows, p.tail);
  });
  for (const [b, vals] of raw) {
    if (have[b]) throw new Error(`block ${b} was both summed whole and handed over raw`);
    let s = 0;
    for (const v of vals) s += v;
    sums[b] = s;
    have[b] = 1;
  }
  for (let b = 0; b < nb; b++) if (!have[b]) throw new Error(`block ${b} has no sum: partition rows do not cover 0..${n}`);
  return sums;
}

/** Σ block sums in block order (the engine's blockSum). */
export function totalOf(blockSums: ArrayLike<number>): number {
  let s = 0;
  for (let b = 0; b < blockSums.length; b++) s += blockSums[b];
  return s;
}

/**
 * k-means++'s draw over the blocked cumulative sum (seeding.ts blockedCumsum) without the per-row values:
 * the block whose end offset first reaches `v`, then `rowsOf(block)` — that block's raw values, rows in
 * order — locate the first row whose cumulative sum reaches it (numpy searchsorted 'left', clipped to the
 * last row, as the engine does).
 */
export async function searchBlocked(
  blockSums: ArrayLike<number>,
  v: number,
  n: number,
  rowsOf: (block: number) => Promise<ArrayLike<number>>,
): Promise<number> {
  let offset = 0;
  for (let b = 0; b < blockSums.length; b++) {
    const end = offset + blockSums[b];
    if (end >= v) {
      const vals = await rowsOf(b);
      let local = 0;
      for (let i = 0; i < vals.length; i++) {
        local += vals[i];
        if (offset + local >= v) return b * BLOCK_SIZE + i;
      }
      // the block's end equals `end` ≥ v, so the last row qualifies; reached only if values disagree
      return Math.min(n - 1, b * BLOCK_SIZE + vals.length - 1);
    }
    offset = end;
  }
  return n - 1;
}
