// Planning a distributed training: how many parse ranges and partitions an upload needs, where the
// line-aligned byte cuts go, and which user ids bound each partition. Pure: the caller reads the bytes.
//
// Partitions are contiguous user-id ranges (users in ascending id, as the single-function matrix orders its
// rows), so the shards concatenated in partition order ARE that matrix. Their bounds come from a sample of
// the file's rows: equal shares of the sampled rows, so partitions hold about equal numbers of ratings.

/** Bytes of ratings text one parse worker reads (≈ 9M ratings of MovieLens-shaped CSV). A parse worker
 * holds its range's interactions (≤ 2.5 × the text) plus their copy by partition: about 1 GB at this size,
 * a third of a 3,008 MB function (measured in BENCHMARKS.md, "Distributed training"). */
export const RANGE_BYTES = 256 * 2 ** 20;
/** Ratings per partition when the caller does not choose the count: a K-means worker holds its partition's
 * matrix twice (the CSR and the engine's WebAssembly copy, 12–24 bytes per rating with unit values), the
 * Elkan bounds of its users (8 × k bytes each) and the centres; 8M ratings stay under 1.5 GB at k = 80. */
export const PARTITION_NNZ = 8_000_000;
/** At most this many partitions (the state input carries the partition list: 256 KiB of JSON). */
export const MAX_PARTITIONS = 1000;
/** Bytes read around each nominal cut to find the next line start. */
export const CUT_WINDOW = 64 * 1024;
/** Sample windows read to place the partition bounds, and their size. */
export const SAMPLE_WINDOWS = 128;
export const SAMPLE_WINDOW_BYTES = 32 * 1024;

export interface Range {
  /** first byte (a line start) */
  start: number;
  /** one past the last byte (a line start or the end of the object) */
  end: number;
}

/** Nominal cut positions splitting [from, size) into `n` ranges of about equal bytes. */
export function nominalCuts(from: number, size: number, n: number): number[] {
  const cuts: number[] = [];
  for (let i = 1; i < n; i++) cuts.push(from + Math.floor(((size - from) * i) / n));
  return cuts;
}

/** The first line start after byte `windowStart`, given bytes [windowStart, windowStart + window.length):
 * read the window from `cut - 1` and this is the first line start ≥ cut. null when the window holds no
 * newline (a line longer than the window: read a further window). */
export function firstLineStart(window: Uint8Array, windowStart: number): number | null {
  const i = window.indexOf(10);
  return i < 0 ? null : windowStart + i + 1;
}

/** Ranges from aligned cuts: duplicates (two cuts inside one long line) collapse, empty ranges vanish. */
export function rangesFromCuts(from: number, size: number, aligned: number[]): Range[] {
  const points = [from, ...aligned.filter((c) => c > from && c < size), size];
  const uniq = [...new Set(points)].sort((a, b) => a - b);
  const out: Range[] = [];
  for (let i = 0; i + 1 < uniq.length; i++) if (uniq[i + 1] > uniq[i]) out.push({ start: uniq[i], end: uniq[i + 1] });
  return out;
}

/**
 * Partition bounds from a sample of rows' user ids: `bounds[q]` is the smallest user id of partition
 * q + 1 (so partition q holds ids in [bounds[q-1], bounds[q])). Each partition gets about the same share
 * of the sampled rows; bounds are distinct, so fewer than `partitions` partitions come out when the sample
 * has fewer distinct users.
 */
export function partitionBounds(sampledUserIds: ArrayLike<number>, partitions: number): number[] {
  const ids = Float64Array.from(sampledUserIds).sort();
  if (partitions <= 1 || ids.length === 0) return [];
  const bounds: number[] = [];
  for (let q = 1; q < partitions; q++) {
    const b = ids[Math.min(ids.length - 1, Math.floor((ids.length * q) / partitions))];
    // a bound equal to the smallest id would leave partition 0 empty; one equal to the previous, another
    if (b > ids[0] && (bounds.length === 0 || b > bounds[bounds.length - 1])) bounds.push(b);
  }
  return bounds;
}

/** Partition of a user id: the number of bounds ≤ id. */
export function partitionOf(userId: number, bounds: readonly number[]): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid] <= userId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Sizing {
  ranges: number;
  partitions: number;
}

/** Parse ranges and partitions for an object of `textBytes` whose rows average `bytesPerRow`. `shards`
 * (the CLI's --shards, tests) fixes the partition count; otherwise PARTITION_NNZ ratings per partition. */
export function sizeRun(textBytes: number, bytesPerRow: number, opts: { shards?: number; rangeBytes?: number; partitionNnz?: number } = {}): Sizing {
  const rows = bytesPerRow > 0 ? textBytes / bytesPerRow : 0;
  const partitions = Math.max(1, Math.min(MAX_PARTITIONS, opts.shards ?? Math.ceil(rows / (opts.partitionNnz ?? PARTITION_NNZ))));
  const byBytes = Math.ceil(textBytes / (opts.rangeBytes ?? RANGE_BYTES));
  // at least one parse range per partition keeps the parse pass as parallel as the rest
  const ranges = Math.max(1, Math.min(MAX_PARTITIONS, Math.max(byBytes, partitions)));
  return { ranges, partitions };
}
