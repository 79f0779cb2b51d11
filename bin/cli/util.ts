// Shared helpers of the CLI commands: argument parsing, errors, progress, files.
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { InputError } from '../../functions/core/types';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parse `argv` for one command; unknown flags are an InputError naming the flag and the help. */
export function parse<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new InputError('bad_args', `${(e as Error).message.split('\n')[0]} (see: movierec ${command} --help).`);
  }
}

export function requireOpt<T>(value: T | undefined, flag: string, command: string): T {
  if (value === undefined || value === '') {
    throw new InputError('missing_arg', `${flag} is needed (see: movierec ${command} --help).`);
  }
  return value;
}

/** Integer flag with bounds; a clear sentence otherwise. */
export function intOpt(value: string | undefined, flag: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError('bad_arg', `${flag} must be an integer between ${min} and ${max}, got "${value}".`);
  }
  return n;
}

export async function assertReadable(path: string, what: string): Promise<void> {
  try {
    const st = await fs.stat(path);
    if (!st.isFile()) throw new InputError('not_a_file', `${what} ${path} is not a file.`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError('no_such_file', `${what} ${path} does not exist or cannot be read; check the path.`);
  }
}

export async function readJsonFile(path: string, what: string): Promise<unknown> {
  await assertReadable(path, what);
  const text = await fs.readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError('bad_json', `${what} ${path} is not valid JSON (${(e as Error).message}).`);
  }
}

/** Write text to a file atomically (temp file + rename), so a failure never leaves half a file. */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, path);
}

/** Stream many lines to a file atomically. */
export async function writeLinesAtomic(path: string, lines: Iterable<string>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  let buf = '';
  for (const line of lines) {
    buf += line + '\n';
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  await fs.rename(tmp, path);
}

/** Stream text chunks to a file atomically, gzipped when asked; pulled as the file takes them. */
export async function writeChunksAtomic(path: string, chunks: Iterable<string>, gzip: boolean): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const source = Readable.from(chunks, { objectMode: false });
  await (gzip ? pipeline(source, createGzip(), createWriteStream(tmp)) : pipeline(source, createWriteStream(tmp)));
  await fs.rename(tmp, path);
}

export { createReadStream };

export const log = (...args: unknown[]) => console.error(...args);

export function fmtSeconds(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}
