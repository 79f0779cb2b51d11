// The parse pass's output: one fragment per byte range, its accepted rows bucketed by partition (user-id
// range), with the range's share of the data report. The reduce merges the reports into the one the
// single-function reader would have written, and the movie ids into the global column index.
import type { DataReport, Interactions, RejectExample } from '../types';
import { partitionOf } from './plan';

/** One partition's rows of one range: parallel arrays of raw ids (and timestamps when kept). */
export interface Bucket {
  users: Float64Array;
  movies: Float64Array;
  times: Float64Array | null;
}

/** A range's share of the data report. Example line numbers are local: the caller maps them. */
export interface RangeReport {
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
  rejectedByReason: DataReport['rejectedByReason'];
  examples: RejectExample[];
  /** newline bytes in the range (to number its lines in the whole file) */
  newlines: number;
  /** lines the parser saw before the range's own first line (a header it was given) */
  linesBefore: number;
}

/** Splits a range's accepted rows by partition, keeping file order within each. */
export function bucketRows(x: Interactions, bounds: readonly number[], withTimes: boolean): Bucket[] {
  const P = bounds.length + 1;
  const counts = new Int32Array(P);
  const partOfUser = new Int32Array(x.userIds.length);
  x.userIds.forEach((id, i) => (partOfUser[i] = partitionOf(id, bounds)));
  for (let r = 0; r < x.length; r++) counts[partOfUser[x.users[r]]]++;
  const out: Bucket[] = [];
  for (let q = 0; q < P; q++) {
    out.push({ users: new Float64Array(counts[q]), movies: new Float64Array(counts[q]), times: withTimes ? new Float64Array(counts[q]) : null });
  }
  const fill = new Int32Array(P);
  const ts = x.timestamps;
  for (let r = 0; r < x.length; r++) {
    const q = partOfUser[x.users[r]];
    const at = fill[q]++;
    const b = out[q];
    b.users[at] = x.userIds[x.users[r]];
    b.movies[at] = x.movieIds[x.movies[r]];
    if (b.times) b.times[at] = ts ? ts[r] : NaN;
  }
  return out;
}

/** Distinct movie ids of a range, ascending. */
export function distinctMovies(x: Interactions): Float64Array {
  return Float64Array.from(x.movieIds).sort();
}

/** Ascending union of ascending id lists. */
export function unionSorted(lists: readonly ArrayLike<number>[]): Float64Array {
  let total = 0;
  for (const l of lists) total += l.length;
  const all = new Float64Array(total);
  let w = 0;
  for (const l of lists) for (let i = 0; i < l.length; i++) all[w++] = l[i];
  all.sort();
  let u = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[u++] = all[i];
  return all.slice(0, u);
}

/** How many rejected-row examples a report keeps (the reader's own cap). */
export const MAX_EXAMPLES = 5;

/**
 * The whole file's report from its ranges' reports, in range order. `headerLines` is the number of lines
 * before the first range (header and blank lines); a range's example at local line L (counting the header
 * its parser was given, `linesBefore`) is at line L − linesBefore + lines before the range.
 */
export function mergeReports(
  ranges: readonly RangeReport[],
  base: { format: DataReport['format']; bytes: number; headerLines: number },
): DataReport {
  const report: DataReport = {
    format: base.format,
    gzip: false,
    bytes: base.bytes,
    rowsRead: 0,
    rowsAccepted: 0,
    rowsRejected: 0,
    rejectedByReason: {},
    examples: [],
  };
  let linesBefore = base.headerLines;
  for (const r of ranges) {
    report.rowsRead += r.rowsRead;
    report.rowsAccepted += r.rowsAccepted;
    report.rowsRejected += r.rowsRejected;
    for (const [reason, n] of Object.entries(r.rejectedByReason) as Array<[keyof DataReport['rejectedByReason'], number]>) {
      report.rejectedByReason[reason] = (report.rejectedByReason[reason] ?? 0) + n;
    }
    for (const ex of r.examples) {
      if (report.examples.length < MAX_EXAMPLES) report.examples.push({ ...ex, line: ex.line - r.linesBefore + linesBefore });
    }
    linesBefore += r.newlines;
  }
  return report;
}

/** Newline bytes in a buffer. */
export function countNewlines(buf: Uint8Array): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
