// RatingsSource and ReportStore over S3 (client-s3; lib-storage Upload for writes, which streams big bodies
// as multipart and sends small ones as one PutObject).
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { OpenedObject, RatingsSource, ReportStore, SourceRef } from '../ports';

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
