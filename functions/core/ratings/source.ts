// Opens the input as a stream of text bytes: a path or a readable stream; gzip detected by its magic
// bytes (1f 8b), not by name; decompressed size capped (gzip-bomb guard); NUL bytes refused as not text.
import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../types';

export interface TextInput {
  chunks: AsyncIterator<Buffer>;
  gzip: boolean;
  /** text bytes delivered so far (after decompression) */
  bytes(): number;
  /** bytes of the input itself consumed so far (compressed, for gzip) */
  rawBytes(): number;
  close(): void;
}

export interface OpenOptions {
  name: string;
  maxBytes: number;
  /** refuse NUL bytes (binary / UTF-16 input) */
  textOnly: boolean;
}

const READ_CHUNK = 1 << 20;

export async function openInput(source: NodeJS.ReadableStream | string, opts: OpenOptions): Promise<TextInput> {
  const stream: NodeJS.ReadableStream =
    typeof source === 'string' ? createReadStream(source, { highWaterMark: READ_CHUNK }) : source;
  const raw = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  try {
    while (headLen < 2) {
      const r = await raw.next();
      if (r.done) break;
      const b = toBuffer(r.value);
      head.push(b);
      headLen += b.length;
    }
  } catch (err) {
    destroy(stream);
    throw mapError(err, opts.name);
  }
  const first = Buffer.concat(head);
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  let rawBytes = 0;

  async function* rawChunks(): AsyncGenerator<Buffer> {
    if (first.length > 0) {
      rawBytes += first.length;
      yield first;
    }
    for (;;) {
      const r = await raw.next();
      if (r.done) return;
      const b = toBuffer(r.value);
      rawBytes += b.length;
      yield b;
    }
  }

  let gunzip: NodeJS.ReadWriteStream | null = null;
  let text: AsyncIterable<Buffer>;
  if (gzip) {
    const gz = createGunzip({ chunkSize: READ_CHUNK });
    gunzip = gz;
    // Errors of either side end up on `gz`, whose iteration then throws them.
    pipeline(Readable.from(rawChunks()), gz, () => undefined);
    text = gz;
  } else {
    text = rawChunks();
  }

  let bytes = 0;
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      for await (const c of text) {
        const chunk = toBuffer(c);
        if (opts.textOnly) {
          const nul = chunk.indexOf(0);
          if (nul >= 0) {
            throw new InputError(
              'not_text',
              `${opts.name}: byte ${bytes + nul + 1} is a NUL byte, so this is not a text ratings file (binary data or UTF-16?); save it as UTF-8 CSV.`,
            );
          }
        }
        bytes += chunk.length;
        if (bytes > opts.maxBytes) {
          throw new InputError(
            'too_large',
            `${opts.name}: more than ${formatBytes(opts.maxBytes)} of ${gzip ? 'decompressed ' : ''}text; refusing to read further (raise maxBytes if the file really is this large).`,
          );
        }
        yield chunk;
      }
    } catch (err) {
      throw mapError(err, opts.name);
    }
  }

  return {
    chunks: guarded(),
    gzip,
    bytes: () => bytes,
    rawBytes: () => rawBytes,
    close() {
      if (gunzip) destroy(gunzip);
      destroy(stream);
    },
  };
}

function toBuffer(c: Buffer | string | Uint8Array): Buffer {
  if (Buffer.isBuffer(c)) return c;
  return typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

function destroy(s: NodeJS.ReadableStream | NodeJS.ReadWriteStream): void {
  const d = (s as { destroy?: () => void }).destroy;
  if (typeof d === 'function') d.call(s);
}

function mapError(err: unknown, name: string): unknown {
  if (err instanceof InputError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return new InputError('not_found', `${name}: no such file; check the path.`);
  if (code === 'EISDIR') return new InputError('not_found', `${name}: is a folder, not a ratings file.`);
  if (code === 'EACCES') return new InputError('not_found', `${name}: permission denied.`);
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new InputError('bad_gzip', `${name}: the gzip data is corrupt or truncated (${(err as Error).message}); re-create the .gz file.`);
  }
  return err;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(2)} MiB`;
  if (n >= 2 ** 10) return `${+(n / 2 ** 10).toFixed(2)} KiB`;
  return `${n} bytes`;
}
