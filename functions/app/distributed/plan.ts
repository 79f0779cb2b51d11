// Step Plan (central): decide whether there is anything to train, then read only the upload's head, a
// sample of windows and a window at each cut — never the whole file — to fix the format, the line-aligned
// byte ranges the parse workers read and the user-id bounds of the partitions.
import { PassThrough } from 'node:stream';
import { csvRolesFromFirst, readRatings, sniff } from '../../core/ratings';
import { firstLineStart, nominalCuts, partitionBounds, rangesFromCuts, SAMPLE_WINDOW_BYTES, SAMPLE_WINDOWS, sizeRun, CUT_WINDOW } from '../../core/distributed/plan';
import { countNewlines } from '../../core/distributed/fragments';
import { resolveParams } from '../../core/recommender';
import { InputError } from '../../core/types';
import type { SourceRef } from '../../ports';
import type { UploadReader } from '../../ports/training-run';
import { RANGES } from '../../core/kmeans';
import { executionNameOf } from '../../shared/resources';
import { type DistributedDeps, setStatus } from './deps';
import { type ExecutionInput, type RunState, saveRun } from './state';

/** The head read to find the header (the reader's own limit on a header line is 64 KiB). */
const HEAD_BYTES = 128 * 1024;
/** Below this, the sample is the whole file (exact partition bounds). */
const WHOLE_SAMPLE_BYTES = 4 * 2 ** 20;

export interface PlanOutput {
  /** nothing to train: already published, stale, or the object is gone */
  skip: boolean;
  reason?: string;
  ranges: number[];
  partitions: number[];
  columnRanges: number[];
}

const sourceNameOf = (ref: SourceRef) => `s3://${ref.bucket}/${ref.key}`;
const streamOf = (...parts: Uint8Array[]) => {
  const s = new PassThrough();
  for (const p of parts) s.write(p);
  s.end();
  return s;
};

export async function planRun(input: ExecutionInput, deps: DistributedDeps): Promise<PlanOutput> {
  const { version, source } = input;
  const none: PlanOutput = { skip: true, ranges: [], partitions: [], columnRanges: [] };
  const skip = async (reason: string): Promise<PlanOutput> => {
    await setStatus(deps, version, { phase: 'skipped', error: reason });
    await deps.lease?.release(executionNameOf(version));
    deps.log?.info('distributed training: nothing to train', { version, reason });
    return { ...none, reason };
  };
  if (deps.versions) {
    const pre = await deps.versions.checkPublishable(version, input.sourceOrder);
    if (pre !== 'ok') return skip(pre);
  }
  // the status item exists from here on even when no router created it (a direct start: the CLI, the bench)
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  await deps.status?.update(version, { version, key: source.key, mode: 'distributed', phase: 'planning', startedAt: at, updatedAt: at }, { create: true });
  await setStatus(deps, version, { phase: 'planning' });
  const head = await deps.upload.head(source);
  if (!head) return skip('superseded');
  const sourceName = sourceNameOf(source);
  const size = head.size;
  const first = await deps.upload.range(source, 0, Math.min(size, HEAD_BYTES));
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    throw new InputError(
      'gzip_too_large',
      `${sourceName}: a gzip-compressed file too large for one training function cannot be read in parallel; upload it uncompressed (or in parts).`,
    );
  }
  const params = resolveParams(input.params);
  const withTimes = params.algorithm === 'taste';
  const header = parseHeader(first, size, input.options.format ?? 'auto');
  // the reader's own refusals of the head (UTF-16, no id columns), with its messages
  await readRatings(streamOf(Buffer.from(header.text ? `${header.text}\n` : ''), first.subarray(header.dataStart, lastLineEnd(first, header.dataStart, size))), {
    format: header.format,
    sourceName,
    withTimestamps: withTimes,
    checks: false,
  });

  const sample = await sampleRows(deps.upload, source, header, size, withTimes, sourceName);
  const bytesPerRow = sample.rows > 0 ? sample.bytes / sample.rows : 64;
  const sizing = sizeRun(size - header.dataStart, bytesPerRow, { shards: input.options.shards, rangeBytes: input.options.rangeBytes });
  const bounds = partitionBounds(sample.userIds, sizing.partitions);
  const cuts = await alignCuts(deps.upload, source, nominalCuts(header.dataStart, size, sizing.ranges), size);
  const ranges = rangesFromCuts(header.dataStart, size, cuts);

  const run: RunState = {
    version,
    source,
    sourceOrder: input.sourceOrder,
    sourceName,
    params: input.params,
    options: input.options,
    startedAt: new Date((deps.now ?? Date.now)()).toISOString(),
    plan: { format: header.format, header: header.text, headerLines: countNewlines(first.subarray(0, header.dataStart)), bytes: size, ranges, bounds, withTimes },
    seconds: {},
  };
  await saveRun(deps.runs, run);
  const partitions = bounds.length + 1;
  await setStatus(deps, version, { phase: 'parsing', partitions });
  deps.log?.info('distributed training planned', { version, bytes: size, ranges: ranges.length, partitions });
  return {
    skip: false,
    ranges: ranges.map((_, i) => i),
    partitions: Array.from({ length: partitions }, (_, i) => i),
    columnRanges: Array.from({ length: RANGES }, (_, i) => i),
  };
}

interface Header {
  format: RunState['plan']['format'];
  /** the line each range is parsed after: the file's header, a synthetic one for a header-less CSV, or '' */
  text: string;
  /** first byte of the first range */
  dataStart: number;
}

/** The reader's view of the first line: the format, and whether it is a header (then ranges start after it). */
function parseHeader(first: Uint8Array, size: number, format: 'auto' | Header['format']): Header {
  let pos = first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? 3 : 0;
  for (;;) {
    const nl = first.indexOf(10, pos);
    const end = nl < 0 ? first.length : nl;
    const line = Buffer.from(first.subarray(pos, end)).toString('utf8').replace(/\r$/, '');
    if (line.length > 0 || nl < 0) {
      const fmt = format !== 'auto' ? format : sniff(Buffer.from(line, 'utf8'));
      if (fmt !== 'csv') return { format: fmt, text: '', dataStart: 0 };
      const fields = line.split(',').map((f) => f.replace(/^"|"$/g, ''));
      const roles = csvRolesFromFirst(fields, false, false);
      if (roles === null || roles.header) {
        // a header (or no id columns: the head parse refuses it with the reader's message)
        const next = nl < 0 ? Math.min(size, first.length) : nl + 1;
        return { format: fmt, text: line, dataStart: next };
      }
      const names = ['userId', 'movieId', 'rating', 'timestamp'];
      return { format: fmt, text: fields.map((_, i) => names[i] ?? `column${i + 1}`).join(','), dataStart: 0 };
    }
    pos = nl + 1;
  }
}

/** End of the last complete line of the head (or its end when it is the whole object). */
function lastLineEnd(buf: Uint8Array, from: number, size: number): number {
  if (buf.length >= size) return buf.length;
  const nl = buf.lastIndexOf(10);
  return nl < from ? from : nl + 1;
}

/** User ids of sampled rows: the whole file when small, else evenly spaced windows of whole lines. */
async function sampleRows(
  upload: UploadReader,
  source: SourceRef,
  header: Header,
  size: number,
  withTimes: boolean,
  sourceName: string,
): Promise<{ userIds: number[]; rows: number; bytes: number }> {
  const pieces: Uint8Array[] = [];
  const span = size - header.dataStart;
  if (span <= WHOLE_SAMPLE_BYTES) {
    pieces.push(await upload.range(source, header.dataStart, size));
  } else {
    const starts = Array.from({ length: SAMPLE_WINDOWS }, (_, i) => header.dataStart + Math.floor((span * i) / SAMPLE_WINDOWS));
    const windows = await mapLimit(starts, 16, (s) => upload.range(source, s, Math.min(size, s + SAMPLE_WINDOW_BYTES)));
    windows.forEach((w, i) => {
      const from = starts[i] === header.dataStart ? 0 : w.indexOf(10) + 1;
      const end = w.lastIndexOf(10) + 1;
      if (from > 0 && end > from) pieces.push(w.subarray(from, end));
      else if (from === 0 && end > 0) pieces.push(w.subarray(0, end));
    });
  }
  const text = pieces.map((p) => (p.length && p[p.length - 1] !== 10 ? Buffer.concat([p, Buffer.from('\n')]) : p));
  const bytes = text.reduce((s, p) => s + p.length, 0);
  const { interactions, report } = await readRatings(streamOf(Buffer.from(header.text ? `${header.text}\n` : ''), ...text), {
    format: header.format,
    sourceName,
    withTimestamps: withTimes,
    checks: false,
  });
  const userIds = Array.from(interactions.users, (u) => interactions.userIds[u]);
  return { userIds, rows: report.rowsRead, bytes };
}

/** Each nominal cut moved to the next line start (reading further windows past a long line). */
async function alignCuts(upload: UploadReader, source: SourceRef, cuts: number[], size: number): Promise<number[]> {
  return mapLimit(cuts, 16, async (cut) => {
    for (let at = cut - 1; at < size; at += CUT_WINDOW) {
      const w = await upload.range(source, at, Math.min(size, at + CUT_WINDOW));
      const s = firstLineStart(w, at);
      if (s !== null) return s;
    }
    return size;
  });
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
