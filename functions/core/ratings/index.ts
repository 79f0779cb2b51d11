// Ratings reader: streams a MovieLens-style ratings file of any size (ratings.csv with a header,
// u.data, ratings.dat, each optionally gzip-compressed) into Interactions plus a data-quality report.
// Plain numeric rows go through a byte-level fast path (fast.ts); CSV that needs RFC 4180 quoting
// goes, from its first quoted line on, through csv-parse (slow.ts). Bad rows are counted with line
// numbers; an empty file, missing id columns or too many bad rows are refused with an InputError.
import { stat } from 'node:fs/promises';
import type { DataReport, Interactions, RatingsFormat } from '../types';
import { InputError } from '../types';
import { type DataShape, InteractionsBuilder } from './builder';
import { FastParser, type FastConfig, type Handoff } from './fast';
import { parseIdBytes, positionalRoles, rolesFromHeader } from './fields';
import { formatBytes, openInput } from './source';
import { runCsvParse } from './slow';

export interface ReadOptions {
  /** 'auto' (default) sniffs the first line: `::` → dat, a tab → u.data, else csv */
  format?: 'auto' | RatingsFormat;
  /** refuse the file when more than this share of data rows is rejected (default 0.01) */
  maxRejectedShare?: number;
  withTimestamps?: boolean;
  withRatings?: boolean;
  /** a longer row is rejected as line_too_long without being buffered (default 64 KiB) */
  maxLineBytes?: number;
  /** cap on (decompressed) text bytes (default 8 GiB) */
  maxBytes?: number;
  /** name used in messages (default: the path, or "ratings input") */
  sourceName?: string;
  /** 'csv-parse' forces the RFC 4180 path for a CSV file (tests, diagnosis); default 'auto' */
  parser?: 'auto' | 'csv-parse';
  /** false: return whatever was read, even nothing, and leave the file-level refusals (empty, too many
   * rejected) to the caller (assertUsable): a distributed training reads a file in byte ranges and
   * decides on the whole file's counts */
  checks?: boolean;
  /** keep each (user, movie) pair once as it is read (training: memory follows the distinct pairs); the
   * interactions then hold one entry per pair and report.duplicatesCollapsed counts the rest (default false) */
  collapseDuplicates?: boolean;
  /** a memory bound consulted as the data grows (core/memory.ts memoryCheck); throws to refuse the file.
   * Given the data so far and the share of the input read (null when its size is unknown). */
  memoryCheck?: (shape: DataShape, readShare: number | null) => void;
  /** pre-size no further than this many rows (the most the memory bound could accept) */
  maxPairs?: number;
  /** the input's size in bytes as stored (compressed when gzip), when the caller knows it (S3 Content-Length);
   * a path's size is read from the file */
  totalBytes?: number;
}

export interface ReadResult {
  interactions: Interactions;
  report: DataReport;
}

/** The header is not a data row: it may be this long whatever maxLineBytes says. */
const HEADER_MAX_BYTES = 64 * 1024;

const DEFAULTS = {
  maxRejectedShare: 0.01,
  maxLineBytes: 64 * 1024,
  maxBytes: 8 * 2 ** 30,
};

export async function readRatings(source: NodeJS.ReadableStream | string, opts: ReadOptions = {}): Promise<ReadResult> {
  const name = opts.sourceName ?? (typeof source === 'string' ? source : 'ratings input');
  const maxLineBytes = opts.maxLineBytes ?? DEFAULTS.maxLineBytes;
  const maxRejectedShare = opts.maxRejectedShare ?? DEFAULTS.maxRejectedShare;
  const withRatings = opts.withRatings ?? false;
  const withTimestamps = opts.withTimestamps ?? false;
  if (!(maxLineBytes >= 1)) throw new InputError('bad_option', `maxLineBytes must be ≥ 1 (got ${maxLineBytes}).`);
  if (!(maxRejectedShare >= 0 && maxRejectedShare <= 1)) {
    throw new InputError('bad_option', `maxRejectedShare must be between 0 and 1 (got ${maxRejectedShare}).`);
  }

  const input = await openInput(source, { name, maxBytes: opts.maxBytes ?? DEFAULTS.maxBytes, textOnly: true });
  const total = opts.totalBytes ?? (typeof source === 'string' ? await stat(source).then((s) => s.size, () => undefined) : undefined);
  const readShare = () => (total ? Math.min(1, input.rawBytes() / total) : null);
  const check = opts.memoryCheck;
  const sink = new InteractionsBuilder({
    withRatings,
    withTimestamps,
    collapse: opts.collapseDuplicates,
    check: check ? (shape) => check(shape, readShare()) : undefined,
  });
  let format: RatingsFormat = 'csv';
  try {
    const it = input.chunks;
    const head = await readHead(it, Math.max(maxLineBytes, HEADER_MAX_BYTES), name);
    if (head === null && opts.checks === false) {
      input.close();
      return { interactions: sink.finish(), report: makeReport(sink, opts.format && opts.format !== 'auto' ? opts.format : 'csv', input.gzip, input.bytes()) };
    }
    if (head === null) throw refusal('empty', `${name}: the file is empty; expected a ratings CSV with a header like userId,movieId,rating,timestamp.`, input, sink, format);
    const { buf, lineStart, lineEnd, nextLine, blanks } = head;
    const firstLine = buf.subarray(lineStart, lineEnd);
    format = opts.format && opts.format !== 'auto' ? opts.format : sniff(firstLine);

    const csvRoles = (fields: string[]) => {
      const r = csvRolesFromFirst(fields, withRatings, withTimestamps);
      if (r === null) {
        throw refusal(
          'missing_columns',
          `${name}: line ${blanks + 1}: the header has no userId and movieId columns (found: ${fields.slice(0, 8).join(', ')}); a ratings CSV needs a header like userId,movieId,rating,timestamp.`,
          input,
          sink,
          format,
        );
      }
      return r;
    };

    let handoff: Handoff | null;
    let slowRoles: Uint8Array | null = null;
    if (format === 'csv' && (opts.parser === 'csv-parse' || firstLine.includes(34))) {
      // Quoted header (or forced): csv-parse reads everything, header included.
      handoff = { pieces: [buf.subarray(lineStart)], linesBefore: blanks };
    } else {
      let roles: Uint8Array;
      let skipFirst = false;
      if (format === 'csv') {
        const r = csvRoles(firstLine.toString('utf8').split(','));
        roles = r.roles;
        skipFirst = r.header;
      } else {
        roles = positionalRoles(4, withRatings, withTimestamps);
      }
      const cfg: FastConfig = {
        sep: format === 'csv' ? 44 : format === 'u.data' ? 9 : 58,
        double: format === 'dat',
        roles,
        quotesSwitch: format === 'csv',
        maxLineBytes,
      };
      slowRoles = roles;
      if (typeof source === 'string' && !input.gzip) sink.reserve(Math.min(await estimateRows(source, buf), opts.maxPairs ?? Infinity));
      const fast = new FastParser(cfg, sink, skipFirst ? blanks + 1 : blanks);
      handoff = fast.push(buf.subarray(skipFirst ? nextLine : lineStart));
      while (handoff === null) {
        const r = await it.next();
        if (r.done) {
          handoff = fast.end();
          break;
        }
        handoff = fast.push(r.value);
      }
    }
    if (handoff !== null) {
      await runCsvParse(resume(handoff.pieces, it), sink, {
        name,
        maxLineBytes,
        linesBefore: handoff.linesBefore,
        roles: slowRoles,
        rolesFromFirst: csvRoles,
      });
    }
  } catch (err) {
    input.close();
    throw err;
  }

  const report = makeReport(sink, format, input.gzip, input.bytes());
  if (opts.checks !== false) assertUsable(report, name, maxRejectedShare);
  return { interactions: sink.finish(), report };
}

/** The file-level refusals: no data rows, or more rejected rows than `maxRejectedShare` allows (or none
 * accepted). Throws InputError with the report in its details. */
export function assertUsable(report: DataReport, name: string, maxRejectedShare = DEFAULTS.maxRejectedShare): void {
  if (report.rowsRead === 0) {
    throw new InputError('empty', `${name}: there are no data rows (only a header or blank lines).`, { report });
  }
  if (report.rowsRejected > 0 && (report.rowsRejected > maxRejectedShare * report.rowsRead || report.rowsAccepted === 0)) {
    const ex = report.examples[0];
    const first = `the first is line ${ex.line} (${ex.reason}): "${ex.text}"`;
    const pct = (100 * report.rowsRejected) / report.rowsRead;
    throw new InputError(
      'too_many_rejected',
      report.rowsAccepted === 0
        ? `${name}: none of the ${report.rowsRead} data rows could be read; ${first}. Check the format (userId,movieId as non-negative integers).`
        : `${name}: ${report.rowsRejected} of ${report.rowsRead} data rows (${pct.toFixed(2)}%) were rejected, more than the allowed ${+(100 * maxRejectedShare).toFixed(4)}%; ${first}. Fix the file, or raise the threshold (maxRejectedShare; CLI --max-rejected) if those rows may be dropped.`,
      { report },
    );
  }
}

function makeReport(sink: InteractionsBuilder, format: RatingsFormat, gzip: boolean, bytes: number): DataReport {
  return {
    format,
    gzip,
    bytes,
    rowsRead: sink.rowsRead,
    rowsAccepted: sink.accepted,
    rowsRejected: sink.rowsRejected,
    rejectedByReason: { ...sink.rejectedByReason },
    examples: sink.examples.slice(),
    ...(sink.duplicates ? { duplicatesCollapsed: sink.duplicates } : {}),
  };
}

function refusal(code: string, message: string, input: { gzip: boolean; bytes(): number }, sink: InteractionsBuilder, format: RatingsFormat): InputError {
  return new InputError(code, message, { report: makeReport(sink, format, input.gzip, input.bytes()) });
}

/** `::` → ratings.dat, a tab → u.data, anything else → CSV. */
export function sniff(firstLine: Buffer): RatingsFormat {
  if (firstLine.includes('::')) return 'dat';
  if (firstLine.includes(9)) return 'u.data';
  return 'csv';
}

/** A CSV's first record is either a header (columns by name) or, when its first field is a plain
 * number, the first data row of a header-less file (columns by position: user, movie, rating, ts). */
export function csvRolesFromFirst(
  fields: string[],
  withRatings: boolean,
  withTimestamps: boolean,
): { roles: Uint8Array; header: boolean } | null {
  const f0 = Buffer.from(fields[0] ?? '', 'utf8');
  if (fields.length >= 2 && parseIdBytes(f0, 0, f0.length) >= 0) {
    return { roles: positionalRoles(fields.length, withRatings, withTimestamps), header: false };
  }
  const roles = rolesFromHeader(fields, withRatings, withTimestamps);
  return roles === null ? null : { roles, header: true };
}

interface Head {
  buf: Buffer;
  /** the first non-blank line is buf[lineStart, lineEnd) (CR excluded); the next starts at nextLine */
  lineStart: number;
  lineEnd: number;
  nextLine: number;
  /** blank lines before it */
  blanks: number;
}

/** Reads until the first non-blank line is complete; strips a UTF-8 BOM; refuses UTF-16. */
async function readHead(it: AsyncIterator<Buffer>, maxLineBytes: number, name: string): Promise<Head | null> {
  let buf: Buffer = Buffer.alloc(0);
  let eof = false;
  let bomChecked = false;
  for (;;) {
    if (!bomChecked && (buf.length >= 3 || eof)) {
      bomChecked = true;
      if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
        throw new InputError('not_text', `${name}: the file is UTF-16 encoded; save it as UTF-8 CSV.`);
      }
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    if (bomChecked) {
      let pos = 0;
      let blanks = 0;
      for (;;) {
        const nl = buf.indexOf(10, pos);
        const end = nl < 0 ? buf.length : nl;
        let lineEnd = end;
        if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
        if (nl < 0 && !eof) break; // incomplete line: read more
        if (lineEnd > pos) return { buf, lineStart: pos, lineEnd, nextLine: nl < 0 ? buf.length : nl + 1, blanks };
        if (nl < 0) return null; // only blank lines
        blanks++;
        pos = nl + 1;
      }
      if (buf.length - pos > maxLineBytes) {
        throw new InputError(
          'missing_columns',
          `${name}: the first line is longer than ${formatBytes(maxLineBytes)}; this does not look like a ratings CSV (expected a header like userId,movieId,rating,timestamp).`,
        );
      }
    }
    if (eof) return null;
    const r = await it.next();
    if (r.done) eof = true;
    else buf = buf.length === 0 ? r.value : Buffer.concat([buf, r.value]);
  }
}

/** Rows a plain file probably holds: its size over the mean line length of the first bytes read
 * (+2% and a little slack so the estimate rarely falls short; when it does, arrays just grow). */
async function estimateRows(path: string, head: Buffer): Promise<number> {
  let lines = 0;
  for (let i = head.indexOf(10); i >= 0; i = head.indexOf(10, i + 1)) lines++;
  if (lines < 16) return 0;
  const { size } = await stat(path);
  return Math.min((size / (head.length / lines)) * 1.02 + 1024, 2 ** 30);
}

async function* resume(pieces: Buffer[], it: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  for (const p of pieces) if (p.length > 0) yield p;
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield r.value;
  }
}
