// A generated ratings file in memory (offline/generate.ts: deterministic, planted taste clusters).
import { PassThrough } from 'node:stream';
import { generateRatings, type GenerateOptions } from '../../offline/generate';

export async function generatedCsv(opts: GenerateOptions): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await generateRatings(opts, out);
  out.end();
  await new Promise<void>((r) => out.on('end', r));
  return Buffer.concat(chunks);
}
