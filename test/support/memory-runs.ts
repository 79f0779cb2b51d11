// In-memory adapters of the distributed training's ports (unit tests): a run store and an upload reader
// over a byte buffer. They behave as the S3 adapters do (a missing key throws, ranges are [start, end)).
import { PassThrough } from 'node:stream';
import type { SourceRef } from '../../functions/ports';
import type { RunStore, UploadReader } from '../../functions/ports/training-run';

export class MemoryRunStore implements RunStore {
  readonly objects = new Map<string, Uint8Array>();
  gets = 0;
  puts = 0;

  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.puts++;
    this.objects.set(key, typeof body === 'string' ? Buffer.from(body, 'utf8') : Uint8Array.from(body));
  }

  async get(key: string): Promise<Uint8Array> {
    const o = this.objects.get(key);
    if (!o) throw Object.assign(new Error(`NoSuchKey: ${key}`), { name: 'NoSuchKey' });
    this.gets++;
    return o.slice();
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const o = await this.get(key);
    return o.slice(start, Math.min(end, o.length));
  }
}

export class MemoryUpload implements UploadReader {
  constructor(private readonly bytes: Uint8Array) {}

  async head(_ref: SourceRef): Promise<{ size: number; etag?: string }> {
    return { size: this.bytes.length, etag: 'e' };
  }

  async range(_ref: SourceRef, start: number, end: number): Promise<Uint8Array> {
    return this.bytes.slice(start, Math.min(end, this.bytes.length));
  }

  async stream(ref: SourceRef, start: number, end: number): Promise<NodeJS.ReadableStream> {
    const s = new PassThrough();
    const data = await this.range(ref, start, end);
    // in several chunks, as a network stream arrives
    for (let i = 0; i < data.length; i += 4096) s.write(Buffer.from(data.subarray(i, i + 4096)));
    s.end();
    return s;
  }
}
