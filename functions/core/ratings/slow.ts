// Slow path: csv-parse (streaming, RFC 4180) for CSV that needs quoting. It applies the fast path's
// rules field by field (same grammar functions on the field's UTF-8 bytes, same reject priority, same
// example text), so a file both paths can read gives identical interactions and report.
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { InputError } from '../types';
import type { InteractionsBuilder } from './builder';
import {
  ROLE_MOVIE,
  ROLE_RATING,
  ROLE_TIMESTAMP,
  ROLE_USER,
  exampleText,
  parseDecimalBytes,
  parseIdBytes,
} from './fields';
import { formatBytes } from './source';

export interface SlowOptions {
  name: string;
  maxLineBytes: number;
  /** lines consumed before the first byte handed over */
  linesBefore: number;
  /** known columns; null when the first record is the header */
  roles: Uint8Array | null;
  /** decides columns from the first record (header or header-less CSV); throws when it cannot */
  rolesFromFirst: (fields: string[]) => { roles: Uint8Array; header: boolean };
}

interface RawRecord {
  record: string[];
  raw: string;
}

export async function runCsvParse(chunks: AsyncIterable<Buffer>, sink: InteractionsBuilder, o: SlowOptions): Promise<void> {
  const parser = parse({
    bom: false,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    raw: true,
    record_delimiter: '\n',
    max_record_size: recordCap(o.maxLineBytes),
  });
  const input = Readable.from(stripCrBeforeLf(chunks));
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  let roles = o.roles;
  let consumed = o.linesBefore; // lines fully consumed
  try {
    for await (const rec of parser as AsyncIterable<RawRecord>) {
      const { record, raw } = rec;
      let lead = 0;
      while (raw.charCodeAt(lead) === 10) lead++;
      const line = consumed + lead + 1;
      consumed += countNewlines(raw);
      if (roles === null) {
        const first = o.rolesFromFirst(record);
        roles = first.roles;
        if (first.header) continue;
      }
      if (lineBytes(raw, lead) > o.maxLineBytes) reject(sink, 'line_too_long', line, record);
      else acceptRecord(record, line, roles, sink);
    }
  } catch (err) {
    input.destroy();
    if (err instanceof InputError) throw err;
    const e = err as { code?: string; lines?: number; message?: string };
    const at = typeof e.lines === 'number' ? `line ${consumed + 1}` : 'a record';
    if (e.code === 'CSV_MAX_RECORD_SIZE') {
      throw new InputError(
        'malformed_csv',
        `${o.name}: ${at}: a quoted record runs past ${formatBytes(recordCap(o.maxLineBytes))} (an unclosed double quote?); fix the quoting.`,
      );
    }
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new InputError('malformed_csv', `${o.name}: ${at}: invalid CSV quoting (${e.message}); fix the quoting.`);
    }
    throw err;
  }
}

function acceptRecord(record: string[], line: number, roles: Uint8Array, sink: InteractionsBuilder): void {
  if (record.length !== roles.length) return reject(sink, 'field_count', line, record);
  let user = -1;
  let movie = -1;
  let rating = NaN;
  let ts = NaN;
  let errs = 0;
  for (let f = 0; f < roles.length; f++) {
    const role = roles[f];
    if (role === 0) continue;
    const b = Buffer.from(record[f], 'utf8');
    if (role === ROLE_USER) {
      user = parseIdBytes(b, 0, b.length);
      if (user < 0) errs |= 1;
    } else if (role === ROLE_MOVIE) {
      movie = parseIdBytes(b, 0, b.length);
      if (movie < 0) errs |= 2;
    } else if (role === ROLE_RATING) {
      rating = parseDecimalBytes(b, 0, b.length);
      if (Number.isNaN(rating)) errs |= 4;
    } else if (role === ROLE_TIMESTAMP) {
      const t = parseIdBytes(b, 0, b.length);
      if (t < 0) errs |= 8;
      else ts = t;
    }
  }
  if (errs === 0) sink.add(user, movie, rating, ts);
  else if (errs & 1) reject(sink, 'bad_user_id', line, record);
  else if (errs & 2) reject(sink, 'bad_movie_id', line, record);
  else if (errs & 4) reject(sink, 'bad_rating', line, record);
  else reject(sink, 'bad_timestamp', line, record);
}

function reject(sink: InteractionsBuilder, reason: Parameters<InteractionsBuilder['reject']>[0], line: number, record: string[]): void {
  const text = sink.examples.length < 5 ? Buffer.from(record.join(','), 'utf8') : Buffer.alloc(0);
  sink.reject(reason, line, exampleText(text, 0, text.length));
}

/** csv-parse holds a whole record in memory: rows over maxLineBytes are rejected like in the fast
 * path, but a record over this cap (a runaway quote) refuses the file. */
export function recordCap(maxLineBytes: number): number {
  return Math.max(maxLineBytes, 1 << 20);
}

/** Bytes of the record's text, without the blank lines before it and its newline. */
function lineBytes(raw: string, lead: number): number {
  const end = raw.endsWith('\n') ? raw.length - 1 : raw.length;
  return Buffer.byteLength(lead > 0 || end < raw.length ? raw.slice(lead, end) : raw, 'utf8');
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Drops every CR that directly precedes an LF (and a CR that ends the input), across chunk edges,
 * so csv-parse sees LF-only records exactly where the fast path sees them. */
export async function* stripCrBeforeLf(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let heldCr = false;
  for await (const chunk of src) {
    if (chunk.length === 0) continue;
    if (heldCr && chunk[0] !== 10) yield Buffer.from([13]);
    heldCr = false;
    let start = 0;
    let end = chunk.length;
    if (chunk[end - 1] === 13) {
      heldCr = true;
      end--;
    }
    for (let cr = chunk.indexOf(13, start); cr >= 0 && cr < end; cr = chunk.indexOf(13, cr + 1)) {
      if (cr + 1 < chunk.length && chunk[cr + 1] === 10) {
        if (cr > start) yield chunk.subarray(start, cr);
        start = cr + 1;
      }
    }
    if (end > start) yield chunk.subarray(start, end);
  }
}
