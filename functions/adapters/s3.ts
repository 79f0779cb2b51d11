// RatingsSource, ReportStore and ExportStore over S3 (client-s3; lib-storage Upload for writes, which streams
// big bodies as multipart and sends small ones as one PutObject).
import { DeleteObjectsCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ExportStore, OpenedObject, RatingsSource, ReportStore, SourceRef } from '../ports';

const unquote = (etag: string | undefined) => etag?.replace(/^"|"$/g, '');

export class S3RatingsSource implements RatingsSource {
  constructor(private readonly s3: S3Client) {}

  async open(ref: SourceRef): Promise<OpenedObject | null> {
    let res;
    try {
      res = await this.s3.send(
        new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId || undefined }),
      );
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound') return null;
      throw e;
    }
    const etag = unquote(res.ETag);
    const body = res.Body as Readable;
    // Without bucket versioning the key now holds a newer object: its own event will train it.
    if (!ref.versionId && ref.etag && etag && unquote(ref.etag) !== etag) {
      body.destroy();
      return null;
    }
    return {
      stream: body,
      etag,
      versionId: res.VersionId,
      lastModified: res.LastModified?.toISOString(),
      contentLength: res.ContentLength,
      metadata: res.Metadata ?? {},
    };
  }
}

export class S3ReportStore implements ReportStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putJson(key: string, doc: unknown): Promise<void> {
    await new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(doc, null, 2),
        ContentType: 'application/json',
      },
    }).done();
  }
}

export interface ExportStoreOptions {
  /** multipart part size (bytes, ≥ 5 MiB; default 5 MiB) */
  partSize?: number;
  /** parts uploaded concurrently (default 2) */
  queueSize?: number;
}

/**
 * Streamed, gzipped exports: text chunks → gzip → lib-storage Upload, which cuts the stream into parts and
 * sends them as a multipart upload (one PutObject when it ends below one part). Backpressure runs end to end —
 * the producer's next chunk is pulled only when gzip and the upload's part buffers have room — so memory is
 * bounded by about (queueSize + 1) parts, whatever the export's size. A failure aborts the multipart upload.
 */
export class S3ExportStore implements ExportStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly opts: ExportStoreOptions = {},
  ) {}

  async putGzipText(key: string, chunks: Iterable<string> | AsyncIterable<string>, contentType: string): Promise<{ bytes: number }> {
    let bytes = 0;
    // the compressed stream, counted on its way to the upload
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: contentType },
      partSize: this.opts.partSize ?? 5 * 1024 * 1024,
      queueSize: this.opts.queueSize ?? 2,
      leavePartsOnError: false,
    });
    const produce = pipeline(Readable.from(chunks, { objectMode: false }), createGzip(), counted);
    const done = upload.done();
    try {
      await Promise.all([produce, done]);
    } catch (e) {
      // whichever side failed first, stop the other: no dangling producer, no half-written object
      counted.destroy(e as Error);
      await upload.abort().catch(() => undefined);
      await Promise.allSettled([produce, done]);
      throw e;
    }
    return { bytes };
  }

  async deleteObjects(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
      );
    }
  }
}
