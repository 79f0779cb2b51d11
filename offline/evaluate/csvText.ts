// Minimal helpers for the small, comma-separated, unquoted CSV files of the evaluation protocol
// (recommendation lists, split files). Ratings files go through the product's ratings reader.

import { InputError } from '../../functions/core/types';

/** Splits text into trimmed non-empty lines, keeping 1-based line numbers. */
export function csvLines(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i].replace(/\r$/, '').trim();
    if (s === '') continue;
    out.push({ line: i + 1, fields: s.split(',').map((f) => f.trim()) });
  }
  return out;
}

/** Column positions of `required` in a header row; InputError naming the file if one is absent. */
export function headerColumns(path: string, header: string[], required: readonly string[]): number[] {
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new InputError(
      'bad_header',
      `${path}: line 1 must be a header with columns ${required.join(',')} (missing ${missing.join(', ')}).`,
      { path, missing },
    );
  }
  return required.map((c) => header.indexOf(c));
}

/** Parses an integer field, or throws an InputError naming file, line and column. */
export function intField(path: string, line: number, column: string, text: string | undefined): number {
  const v = text === undefined || text === '' ? NaN : Number(text);
  if (!Number.isSafeInteger(v)) {
    throw new InputError(
      'bad_field',
      `${path}: line ${line} has ${column} "${text ?? ''}", which is not an integer; fix or remove that line.`,
      { path, line, column },
    );
  }
  return v;
}

/** Parses a number field ('' → NaN), or throws an InputError naming file, line and column. */
export function numField(path: string, line: number, column: string, text: string | undefined): number {
  if (text === undefined || text === '') return NaN;
  const v = Number(text);
  if (!Number.isFinite(v)) {
    throw new InputError(
      'bad_field',
      `${path}: line ${line} has ${column} "${text}", which is not a number; fix or remove that line.`,
      { path, line, column },
    );
  }
  return v;
}
