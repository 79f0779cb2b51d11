// Measures readRatings (and buildMatrix) on the files given on the command line.
//   node bin/run-ts.js bench/parse.ts FILE [FILE...] [--with-ratings] [--csv-parse]
import { createReadStream } from 'node:fs';
import { buildMatrix } from '../functions/core/matrix';
import { readRatings } from '../functions/core/ratings';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const files = args.filter((a) => !a.startsWith('--'));
  const withRatings = args.includes('--with-ratings');
  const parser = args.includes('--csv-parse') ? 'csv-parse' : 'auto';
  for (const file of files) {
    // baseline: just streaming the bytes through, to judge the parser against I/O on a busy machine
    const tb = performance.now();
    for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 })) void _;
    const readOnly = (performance.now() - tb) / 1000;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { interactions, report } = await readRatings(file, { withRatings, withTimestamps: withRatings, parser });
    const t1 = performance.now();
    const cpu = process.cpuUsage(c0);
    const { matrix, duplicatesCollapsed } = buildMatrix(interactions);
    const t2 = performance.now();
    const mb = report.bytes / 2 ** 20;
    console.log(
      `${file}: ${report.rowsAccepted} rows (${report.rowsRejected} rejected), ${mb.toFixed(0)} MiB${report.gzip ? ' gz' : ''}, ` +
        `parse ${((t1 - t0) / 1000).toFixed(2)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, ${(mb / ((t1 - t0) / 1000)).toFixed(0)} MiB/s; read-only ${readOnly.toFixed(2)} s), ` +
        `matrix ${((t2 - t1) / 1000).toFixed(2)} s: ${matrix.nRows} users × ${matrix.nCols} movies, nnz ${matrix.indices.length}, ` +
        `duplicates ${duplicatesCollapsed}, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
