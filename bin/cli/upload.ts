// `movierec upload FILE`: put a ratings file into the running local stack's bucket under uploads/ (no AWS CLI
// needed), then wait until the model trained from it is live, or the upload is refused (with the reason).
import path from 'node:path';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createReadStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeS3Client } from '../../functions/adapters/aws';
import type { ActiveModelT } from '../../functions/api/schemas';
import { InputError } from '../../functions/core/types';
import { rejectionReportKey, versionIdOf } from '../../functions/app/upload';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../../local/emulators';
import { readSavedApiKey, readStackInfo, uploadKeyFor } from '../../local/stack-info';
import { ENV, FORCE_METADATA, S3_PREFIXES } from '../../functions/shared/resources';
import { assertReadable, fmtInt, fmtSeconds, intOpt } from './util';

export async function uploadCommand(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: 'string' },
        'data-dir': { type: 'string' },
        'no-wait': { type: 'boolean' },
        force: { type: 'boolean' },
        timeout: { type: 'string' },
      },
    });
  } catch (e) {
    throw new InputError('bad_args', `${(e as Error).message.split('\n')[0]} (see: movierec upload --help).`);
  }
  const { values: a, positionals } = parsed;
  if (positionals.length !== 1) throw new InputError('missing_arg', 'exactly one FILE is needed (see: movierec upload --help).');
  const file = positionals[0];
  await assertReadable(file, 'The ratings file');
  const key = a.key ?? uploadKeyFor(file);
  if (!key.startsWith(S3_PREFIXES.uploads)) {
    throw new InputError('bad_arg', `--key must start with ${S3_PREFIXES.uploads} (only uploads there are trained), got "${key}".`);
  }
  const timeoutS = intOpt(a.timeout, '--timeout', 600, 1);
  const dataDir = a['data-dir'] ?? '.local';
  const info = readStackInfo(dataDir);
  if (!info) {
    throw new InputError('no_stack', `No local stack found in ${dataDir}: start it with \`npm start\` (or pass --data-dir DIR).`);
  }

  const s3 = makeS3Client({ region: EMULATOR_REGION, endpoint: info.s3Endpoint, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
  try {
    // a plain request first: a stale stack.json (the stack was killed) gets one clear sentence
    try {
      await s3.send(new HeadBucketCommand({ Bucket: info.bucket }));
    } catch (e) {
      const err = e as { code?: string; name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      if (err.$metadata?.httpStatusCode === undefined) {
        throw new InputError('no_stack', `The local stack is not running (${info.s3Endpoint} does not answer): start it with \`npm start\`.`);
      }
      throw new InputError('no_bucket', `The local S3 at ${info.s3Endpoint} has no bucket ${info.bucket}: restart the stack with \`npm start\`.`);
    }
    const res = await s3.send(
      new PutObjectCommand({
        Bucket: info.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: statSync(file).size,
        // as an operator forces an upload in AWS: S3 user metadata the training function reads
        ...(a.force ? { Metadata: { [FORCE_METADATA]: 'true' } } : {}),
      }),
    );
    const etag = (res.ETag ?? '').replace(/"/g, '');
    console.log(`uploaded ${file} (${fmtInt(statSync(file).size)} bytes) to s3://${info.bucket}/${key}`);
    if (a['no-wait']) return;
    if (/^movies\.csv(\.gz)?$/i.test(path.posix.basename(key))) {
      // a catalogue publishes no model version: nothing to wait for
      console.log('movie catalogue: titles and genres appear in answers as soon as the stack has read it (a second or two)');
      return;
    }

    const version = versionIdOf({ bucket: info.bucket, key, etag });
    const apiKey = process.env[ENV.apiKey] || readSavedApiKey(dataDir);
    const t0 = performance.now();
    console.log(`training model ${version} … (progress is shown where npm start runs)`);
    for (;;) {
      const refused = await readJson(s3, info.bucket, rejectionReportKey(key));
      if (refused && refused.version === version) {
        const reason = (refused.reason as { message?: string } | undefined)?.message ?? 'see the report';
        throw new InputError('refused', `${key} was refused and the active model is unchanged: ${reason}`);
      }
      const active = await activeModel(info.apiUrl, apiKey);
      if (active?.version === version) {
        console.log(`model ${version} is live (${fmtSeconds((performance.now() - t0) / 1000)}): ${info.apiUrl}/models/active`);
        if (active.favourites?.carriedOver) console.log(active.favourites.note);
        return;
      }
      if ((performance.now() - t0) / 1000 > timeoutS) {
        throw new InputError('timeout', `Model ${version} is not live after ${timeoutS} s; see the npm start terminal for why.`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    s3.destroy();
  }
}

async function readJson(s3: ReturnType<typeof makeS3Client>, bucket: string, key: string): Promise<Record<string, unknown> | null> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await res.Body!.transformToString()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function activeModel(apiUrl: string, apiKey: string | undefined): Promise<ActiveModelT | null> {
  try {
    const res = await fetch(`${apiUrl}/models/active`, { headers: apiKey ? { 'x-api-key': apiKey } : {} });
    if (res.status === 401 || res.status === 403) {
      throw new InputError('bad_key', `The local API refused the key (HTTP ${res.status}); set MOVIEREC_API_KEY to the key npm start printed.`);
    }
    if (!res.ok) return null;
    return (await res.json()) as ActiveModelT;
  } catch (e) {
    if (e instanceof InputError) throw e;
    return null;
  }
}
