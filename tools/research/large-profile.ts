// Where the default model's large-data path spends its time, step by step (each progress step timed), on any
// ratings file: `--large-nnz` lowers the threshold so a 1M file takes the 25M path's code.
//   node bin/run-ts.js tools/research/large-profile.ts --ratings FILE [--large-nnz 100000] [--threads N] [--ensemble E]
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { trainModel } from '../../functions/core/train';

async function main(): Promise<void> {
  const { values: a } = parseArgs({ options: { ratings: { type: 'string' }, 'large-nnz': { type: 'string' }, threads: { type: 'string' }, ensemble: { type: 'string' } } });
  if (!a.ratings) throw new Error('--ratings FILE is required');
  let last = performance.now();
  let step = 'start';
  const t0 = last;
  const mark = (next: string) => {
    const now = performance.now();
    console.error(`${((now - last) / 1000).toFixed(2).padStart(7)} s  ${step}`);
    last = now;
    step = next;
  };
  const res = await trainModel(createReadStream(a.ratings), a.ensemble ? { taste: { ensemble: Number(a.ensemble) } } : {}, {
    largeDataNnz: a['large-nnz'] ? Number(a['large-nnz']) : undefined,
    threads: a.threads ? Number(a.threads) : undefined,
    onProgress: (p) => {
      const s = p.step ?? p.phase;
      if (s !== step && !p.kmeans) mark(s);
    },
  });
  mark('end');
  console.error(`total ${((performance.now() - t0) / 1000).toFixed(2)} s; seconds ${JSON.stringify(res.training.seconds)}`);
  const h = res.training.holdout;
  if (h) console.error(`check: ${h.reason}`);
  console.error(`rss max ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
