// Field grammar shared by both parsing paths. The fast path inlines exactly these rules in its byte
// loop (see fast.ts); the csv-parse path calls these functions on each field's UTF-8 bytes, so both
// paths accept and reject the same fields. Keep the two in sync (the property tests compare them).

/** Column roles: what a field is used for. */
export const ROLE_SKIP = 0;
export const ROLE_USER = 1;
export const ROLE_MOVIE = 2;
export const ROLE_RATING = 3;
export const ROLE_TIMESTAMP = 4;

/** Longest digit string that can still be ≤ Number.MAX_SAFE_INTEGER (9007199254740991, 16 digits). */
export const MAX_ID_DIGITS = 16;

/** Exact powers of ten (all < 2^53, so exact doubles). */
export const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** A non-negative integer written as plain ASCII digits (leading zeros allowed), ≤ MAX_SAFE_INTEGER.
 * Returns -1 when the field is not one ("", "1.5", "-3", "+3", " 3", "abc", "99999999999999999999"). */
export function parseIdBytes(buf: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > MAX_ID_DIGITS) return -1;
  let acc = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    acc = acc * 10 + d;
  }
  return acc <= Number.MAX_SAFE_INTEGER ? acc : -1;
}

/** A decimal number `-?digits(.digits)?` (no exponent, no spaces). Returns NaN when it is not one.
 * With ≤ 15 significant digits the value is (integer / 10^fractionDigits), one correctly rounded
 * division of two exact doubles, i.e. the same double parseFloat gives. */
export function parseDecimalBytes(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && buf[i] === 45) {
    neg = true;
    i++;
  }
  let acc = 0;
  let nd = 0;
  let intDigits = -1;
  for (; i < end; i++) {
    const c = buf[i];
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      acc = acc * 10 + d;
      nd++;
    } else if (c === 46 && intDigits < 0) {
      intDigits = nd;
    } else {
      return NaN;
    }
  }
  return decimalValue(buf, start, end, acc, nd, intDigits, neg);
}

/** Shared tail of decimal parsing (also used by the fast path): validates digit counts and computes
 * the value. `intDigits` is -1 when there was no decimal point. */
export function decimalValue(
  buf: Uint8Array,
  start: number,
  end: number,
  acc: number,
  nd: number,
  intDigits: number,
  neg: boolean,
): number {
  if (nd === 0) return NaN;
  let fracDigits = 0;
  if (intDigits >= 0) {
    fracDigits = nd - intDigits;
    if (intDigits === 0 || fracDigits === 0) return NaN; // ".5" and "4." are not accepted
  }
  if (nd > 15) return Number.parseFloat(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1'));
  const v = fracDigits === 0 ? acc : acc / POW10[fracDigits];
  return neg ? -v : v;
}

/** Column roles of a ratings.csv header, found by name (case-insensitive, surrounding spaces ignored;
 * `user_id`/`movie_id` spellings accepted). Returns null when userId or movieId is missing. */
export function rolesFromHeader(
  names: string[],
  withRatings: boolean,
  withTimestamps: boolean,
): Uint8Array | null {
  const roles = new Uint8Array(names.length);
  const seen = new Set<number>();
  names.forEach((name, i) => {
    const key = name.trim().toLowerCase().replace(/_/g, '');
    let role = ROLE_SKIP;
    if (key === 'userid') role = ROLE_USER;
    else if (key === 'movieid') role = ROLE_MOVIE;
    else if (key === 'rating' && withRatings) role = ROLE_RATING;
    else if (key === 'timestamp' && withTimestamps) role = ROLE_TIMESTAMP;
    if (role !== ROLE_SKIP && !seen.has(role)) {
      seen.add(role);
      roles[i] = role;
    }
  });
  return seen.has(ROLE_USER) && seen.has(ROLE_MOVIE) ? roles : null;
}

/** Positional roles (u.data, ratings.dat, header-less CSV): user, movie, rating, timestamp. */
export function positionalRoles(nFields: number, withRatings: boolean, withTimestamps: boolean): Uint8Array {
  const roles = new Uint8Array(nFields);
  const order = [ROLE_USER, ROLE_MOVIE, withRatings ? ROLE_RATING : ROLE_SKIP, withTimestamps ? ROLE_TIMESTAMP : ROLE_SKIP];
  for (let i = 0; i < nFields && i < order.length; i++) roles[i] = order[i];
  return roles;
}

/** Text of a row for the report's examples: at most 200 bytes, decoded as UTF-8. */
export const EXAMPLE_BYTES = 200;
export function exampleText(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, Math.min(end, start + EXAMPLE_BYTES));
}
