// s3rver's ObjectCreated events → the events real S3 delivers to a Lambda. Two differences matter: S3
// URL-encodes the object key in form style (space → `+`, `(` → `%28`, `/` kept), while s3rver passes it raw;
// and S3 delivers only the events the bucket's notification filter selects (ObjectCreated under uploads/,
// as lib/training.ts declares). Everything else of the record is already S3-shaped.
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { S3_PREFIXES } from '../functions/shared/resources';

const UNRESERVED = /[A-Za-z0-9._*\-/]/;

/** Encode an object key as S3 event notifications do (application/x-www-form-urlencoded, `/` kept). */
export function encodeS3EventKey(key: string): string {
  let out = '';
  for (const ch of key) {
    if (ch === ' ') out += '+';
    else if (UNRESERVED.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The notification filter of the stack: ObjectCreated:* with the key under `prefix`. */
export function selectedByNotification(record: { eventName?: string; s3?: { object?: { key?: string } } }, prefix: string = S3_PREFIXES.uploads): boolean {
  return !!record.eventName?.startsWith('ObjectCreated:') && !!record.s3?.object?.key?.startsWith(prefix);
}

/** One Lambda event per selected record (S3 sends one record per event), keys encoded as S3 does. */
export function toLambdaS3Events(s3rverEvent: { Records?: unknown[] }, prefix: string = S3_PREFIXES.uploads): S3Event[] {
  const out: S3Event[] = [];
  for (const raw of s3rverEvent.Records ?? []) {
    const r = raw as S3EventRecord;
    if (!selectedByNotification(r, prefix)) continue;
    const object = { ...r.s3.object, key: encodeS3EventKey(r.s3.object.key) };
    if (typeof object.eTag === 'string') object.eTag = object.eTag.replace(/"/g, '');
    out.push({ Records: [{ ...r, s3: { ...r.s3, object } }] });
  }
  return out;
}
