// Fast path: a byte-level parser over Buffer chunks for plain (unquoted) numeric rows. One pass per
// byte, digits accumulated straight into numbers, no per-field strings. A row split across chunks is
// carried in a small bounded buffer; a row longer than maxLineBytes is rejected and skipped without
// ever being buffered whole. In CSV mode, the first line holding a double quote hands that line and
// everything after it to the csv-parse path (see slow.ts), which applies the same field rules.
import type { InteractionsBuilder } from './builder';
import { EXAMPLE_BYTES, MAX_ID_DIGITS, ROLE_MOVIE, ROLE_RATING, ROLE_USER, decimalValue } from './fields';

const NL = 10;
const CR = 13;
const QUOTE = 34;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export interface FastConfig {
  /** separator byte: 44 ',' | 9 '\t' | 58 ':' (with `double`: '::') */
  sep: number;
  double: boolean;
  roles: Uint8Array;
  /** CSV: a line with a double quote switches to csv-parse */
  quotesSwitch: boolean;
  maxLineBytes: number;
}

/** The rest of the input that the csv-parse path must take over, and the line number before it. */
export interface Handoff {
  pieces: Buffer[];
  linesBefore: number;
}

export class FastParser {
  /** number of lines fully consumed so far (header and blank lines included) */
  lines: number;
  private carry: Buffer;
  private carryLen = 0;
  private skipping = false;
  /** bytes of the line being skipped (only its first EXAMPLE_BYTES + 1 are kept) */
  private skipTotal = 0;
  private readonly nFields: number;

  constructor(
    private readonly cfg: FastConfig,
    private readonly sink: InteractionsBuilder,
    linesBefore: number,
  ) {
    this.lines = linesBefore;
    this.nFields = cfg.roles.length;
    this.carry = Buffer.allocUnsafe(Math.max(EXAMPLE_BYTES, Math.min(cfg.maxLineBytes + 1, 1 << 16)));
  }

  /** Feeds one chunk. Returns a handoff when a quoted line was met (CSV), else null. */
  push(chunk: Buffer): Handoff | null {
    const len = chunk.length;
    let pos = 0;
    if (this.skipping) {
      const nl = chunk.indexOf(NL);
      this.collectExample(chunk, 0, nl < 0 ? len : nl);
      if (nl < 0) return null;
      this.finishSkip();
      pos = nl + 1;
    }
    if (this.carryLen > 0) {
      const nl = chunk.indexOf(NL, pos);
      if (nl < 0) {
        this.appendCarry(chunk, pos, len);
        return null;
      }
      const lineLen = this.carryLen + (nl - pos) - (this.byteBefore(chunk, pos, nl) === CR ? 1 : 0);
      if (lineLen > this.cfg.maxLineBytes) {
        this.skipTotal = this.carryLen;
        this.carryLen = Math.min(this.carryLen, EXAMPLE_BYTES + 1);
        this.collectExample(chunk, pos, nl);
        this.finishSkip();
      } else {
        this.appendCarry(chunk, pos, nl + 1);
        const n = this.carryLen;
        this.carryLen = 0;
        const stop = this.region(this.carry, 0, n);
        if (stop >= 0) {
          return { pieces: [Buffer.from(this.carry.subarray(stop, n)), chunk.subarray(nl + 1)], linesBefore: this.lines };
        }
      }
      pos = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last >= pos) {
      const stop = this.region(chunk, pos, last + 1);
      if (stop >= 0) return { pieces: [chunk.subarray(stop)], linesBefore: this.lines };
      pos = last + 1;
    }
    if (pos < len) this.appendCarry(chunk, pos, len);
    return null;
  }

  /** End of input: parses a last line that had no final newline. */
  end(): Handoff | null {
    if (this.skipping) this.finishSkip();
    if (this.carryLen === 0) return null;
    const n = this.carryLen;
    this.carryLen = 0;
    const line = Buffer.allocUnsafe(n + 1);
    this.carry.copy(line, 0, 0, n);
    line[n] = NL;
    const stop = this.region(line, 0, n + 1);
    return stop >= 0 ? { pieces: [line.subarray(stop, n)], linesBefore: this.lines } : null;
  }

  private appendCarry(chunk: Buffer, start: number, end: number): void {
    const add = end - start;
    if (this.carryLen + add > this.cfg.maxLineBytes + 1) {
      // Too long: keep only its first bytes (for the report) and drop the rest as it streams by;
      // the row is recorded when its newline (or the end of input) arrives.
      this.skipping = true;
      this.skipTotal = this.carryLen;
      this.carryLen = Math.min(this.carryLen, EXAMPLE_BYTES + 1);
      this.collectExample(chunk, start, end);
      return;
    }
    this.ensureCarry(this.carryLen + add);
    chunk.copy(this.carry, this.carryLen, start, end);
    this.carryLen += add;
  }

  /** The byte before chunk[nl] in the line being carried (it may still sit in the carry). */
  private byteBefore(chunk: Buffer, pos: number, nl: number): number {
    if (nl > pos) return chunk[nl - 1];
    return this.carryLen > 0 ? this.carry[this.carryLen - 1] : -1;
  }

  private ensureCarry(size: number): void {
    if (size <= this.carry.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.carry.length * 2, size));
    this.carry.copy(bigger, 0, 0, this.carryLen);
    this.carry = bigger;
  }

  /** While skipping a too-long line: keep its first EXAMPLE_BYTES bytes for the report. */
  private collectExample(chunk: Buffer, start: number, end: number): void {
    this.skipTotal += end - start;
    const take = Math.min(end - start, EXAMPLE_BYTES + 1 - this.carryLen);
    if (take <= 0) return;
    this.ensureCarry(this.carryLen + take);
    chunk.copy(this.carry, this.carryLen, start, start + take);
    this.carryLen += take;
  }

  private finishSkip(): void {
    this.lines++;
    let n = this.carryLen;
    // Same text as an in-chunk line: a CR right before the newline is not part of the row.
    if (n > 0 && n === this.skipTotal && this.carry[n - 1] === CR) n--;
    this.sink.rejectBytes('line_too_long', this.lines, this.carry, 0, n);
    this.carryLen = 0;
    this.skipping = false;
  }

  /** Parses complete lines in buf[start, end) (buf[end - 1] is '\n'). Returns -1, or the offset of
   * the first line holding a double quote when the CSV must switch to csv-parse. */
  private region(buf: Buffer, start: number, end: number): number {
    let stopAt = end;
    let handoff = -1;
    if (this.cfg.quotesSwitch) {
      const q = buf.indexOf(QUOTE, start);
      if (q >= 0 && q < end) {
        const ls = q === 0 ? -1 : buf.lastIndexOf(NL, q - 1);
        handoff = ls < start ? start : ls + 1;
        stopAt = handoff;
      }
    }
    if (stopAt > start) this.lines = this.parseLines(buf, start, stopAt, this.lines);
    return handoff;
  }

  /** The hot loop, one field at a time: an optional '-', a run of digits, an optional '.' and
   * digits, then a separator or newline; anything else marks the field bad and is skipped. All state
   * lives in locals; returns the updated line count. buf[end - 1] is '\n', which bounds every scan. */
  private parseLines(buf: Buffer, start: number, end: number, lines: number): number {
    const { sep, double, roles, maxLineBytes } = this.cfg;
    const nFields = this.nFields;
    const sink = this.sink;
    let lineStart = start;
    let field = 0;
    let user = -1;
    let movie = -1;
    let rating = NaN;
    let ts = NaN;
    let errs = 0; // bit 1 user, 2 movie, 4 rating, 8 timestamp
    let i = start;
    while (i < end) {
      const fieldStart = i;
      let c = buf[i];
      let neg = false;
      if (c === 45) {
        neg = true;
        c = buf[++i];
      }
      let acc = 0;
      let nd = 0;
      while (((c - 48) >>> 0) <= 9) {
        acc = acc * 10 + (c - 48);
        nd++;
        c = buf[++i];
      }
      let intDigits = -1;
      if (c === 46) {
        intDigits = nd;
        c = buf[++i];
        while (((c - 48) >>> 0) <= 9) {
          acc = acc * 10 + (c - 48);
          nd++;
          c = buf[++i];
        }
      }
      let bad = false;
      let atSep = c === sep && (!double || buf[i + 1] === sep);
      if (!atSep && c !== NL) {
        if (c === CR && buf[i + 1] === NL) {
          c = NL;
          i++;
        } else {
          bad = true;
          for (;;) {
            c = buf[++i];
            if (c === NL) break;
            if (c === sep && (!double || buf[i + 1] === sep)) {
              atSep = true;
              break;
            }
          }
        }
      }
      const role = field < nFields ? roles[field] : 0;
      if (role !== 0) {
        if (role === ROLE_RATING) {
          rating = bad ? NaN : decimalValue(buf, fieldStart, i, acc, nd, intDigits, neg);
          if (rating !== rating) errs |= 4;
        } else if (bad || neg || intDigits >= 0 || nd === 0 || nd > MAX_ID_DIGITS || acc > MAX_SAFE) {
          errs |= role === ROLE_USER ? 1 : role === ROLE_MOVIE ? 2 : 8;
        } else if (role === ROLE_USER) user = acc;
        else if (role === ROLE_MOVIE) movie = acc;
        else ts = acc;
      }
      if (atSep) {
        i += double ? 2 : 1;
        field++;
        continue;
      }
      // end of a line: buf[i] is '\n'
      lines++;
      let lineEnd = i;
      if (lineEnd > lineStart && buf[lineEnd - 1] === CR) lineEnd--;
      if (lineEnd - lineStart > maxLineBytes) {
        sink.rejectBytes('line_too_long', lines, buf, lineStart, lineEnd);
      } else if (lineEnd > lineStart) {
        if (field + 1 !== nFields) sink.rejectBytes('field_count', lines, buf, lineStart, lineEnd);
        else if (errs === 0) sink.add(user, movie, rating, ts);
        else if (errs & 1) sink.rejectBytes('bad_user_id', lines, buf, lineStart, lineEnd);
        else if (errs & 2) sink.rejectBytes('bad_movie_id', lines, buf, lineStart, lineEnd);
        else if (errs & 4) sink.rejectBytes('bad_rating', lines, buf, lineStart, lineEnd);
        else sink.rejectBytes('bad_timestamp', lines, buf, lineStart, lineEnd);
      }
      field = 0;
      errs = 0;
      rating = NaN;
      ts = NaN;
      i++;
      lineStart = i;
    }
    return lines;
  }
}
