// The distributed training's S3 ports: run objects under runs/ and ranged reads of the upload. Bytes and
// requests are counted per process (runIoStats), which the bench reports as "bytes through S3".
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { SourceRef } from '../ports';
import type { RunStore, UploadReader } from '../ports/training-run';

/** Requests and bytes this process sent to and read from S3 through these adapters. */
export const runIoStats = { gets: 0, getBytes: 0, puts: 0, putBytes: 0 };

async function bodyBytes(body: unknown): Promise<Uint8Array> {
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> } & Readable;
  if (typeof b.transformToByteArray === 'function') return b.transformToByteArray();
  const chunks: Buffer[] = [];
  for await (const c of b) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

const unquote = (etag: string | undefined) => etag?.replace(/^"|"$/g, '');

export class S3RunStore implements RunStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength }));
    runIoStats.puts++;
    runIoStats.putBytes += bytes.byteLength;
  }

  async get(key: string): Promise<Uint8Array> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const bytes = await bodyBytes(res.Body);
    runIoStats.gets++;
    runIoStats.getBytes += bytes.byteLength;
    return bytes;
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    let res;
    try {
      res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
    } catch (e) {
      // a probe past the end of a small object (reading a header): S3 answers 416
      if ((e as { name?: string }).name === 'InvalidRange' && start === 0) return this.get(key);
      throw e;
    }
    const bytes = await bodyBytes(res.Body);
    runIoStats.gets++;
    runIoStats.getBytes += bytes.byteLength;
    return bytes;
  }
}

/** Ranged reads of the exact object version an upload event named: by version id when the bucket is
 * versioned, else guarded by its ETag (If-Match), so an object overwritten mid-training is never mixed in. */
export class S3UploadReader implements UploadReader {
  constructor(private readonly s3: S3Client) {}

  private target(ref: SourceRef) {
    return { Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId || undefined, IfMatch: !ref.versionId && ref.etag ? `"${unquote(ref.etag)}"` : undefined };
  }

  async head(ref: SourceRef): Promise<{ size: number; etag?: string } | null> {
    try {
      const res = await this.s3.send(new HeadObjectCommand(this.target(ref)));
      return { size: res.ContentLength ?? 0, etag: unquote(res.ETag) };
    } catch (e) {
      const name = (e as { name?: string }).name;
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'PreconditionFailed' || status === 404 || status === 412) return null;
      throw e;
    }
  }

  async range(ref: SourceRef, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const res = await this.s3.send(new GetObjectCommand({ ...this.target(ref), Range: `bytes=${start}-${end - 1}` }));
    const bytes = await bodyBytes(res.Body);
    runIoStats.gets++;
    runIoStats.getBytes += bytes.byteLength;
    return bytes;
  }

  async stream(ref: SourceRef, start: number, end: number): Promise<NodeJS.ReadableStream> {
    const res = await this.s3.send(new GetObjectCommand({ ...this.target(ref), Range: `bytes=${start}-${end - 1}` }));
    runIoStats.gets++;
    const body = res.Body as Readable;
    body.on('data', (c: Buffer) => (runIoStats.getBytes += c.length));
    return body;
  }
}
