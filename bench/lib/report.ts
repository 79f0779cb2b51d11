// Markdown for the console and BENCHMARKS.md: one table per section and the targets' verdicts (targets.ts).
import type { ColdRow } from './coldstart';
import type { FilteredRow, HttpRow, InProcessRow, PublishRow } from './serving';
import { targets } from './targets';
import { CONFIGS, type TrainingRow } from './training';
import { fx, kb, median, mib } from './stats';

export interface Results {
  training: TrainingRow[];
  sklearnNote: string | null;
  publish: PublishRow | null;
  inProcess: InProcessRow | null;
  /** filters next to no filters, with a catalogue loaded (absent in runs before it was measured) */
  filtered?: FilteredRow | null;
  http: HttpRow | null;
  cold: ColdRow[];
  /** sections that failed: their error, so one broken section does not lose the others' numbers */
  failures: string[];
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function trainingTable(rows: TrainingRow[]): string {
  return table(
    ['set', 'users × movies (nnz)', 'config', 'parse s', 'matrix s', 'cluster s', 'counts s', 'other phases s', 'write s (streamed JSON)', 'train total s', 'process s', 'iter', 'inertia', 'peak RSS MiB'],
    rows.map((r) => {
      const o = r.ours;
      return [
        r.set,
        `${o.users} × ${o.movies} (${o.interactions})`,
        r.config === CONFIGS.one.label ? r.config : `${r.config}: ${o.algorithm}, k ${o.k}, n_init ${o.nInit}`,
        fx(o.seconds.parse),
        fx(o.seconds.matrix),
        fx(o.seconds.cluster),
        fx(o.seconds.counts),
        otherPhases(o.seconds),
        fx(o.seconds.write),
        fx(o.wallSeconds),
        fx(r.processSeconds),
        String(o.iterations),
        fx(o.inertia, 1),
        mib(o.maxRssBytes),
      ];
    }),
  );
}

const MAIN_PHASES = new Set(['parse', 'matrix', 'cluster', 'counts', 'write']);

/** Phases beyond the five main ones (e.g. the hold-out check), as "name s" pairs. */
function otherPhases(seconds: Record<string, number>): string {
  const rest = Object.entries(seconds).filter(([k]) => !MAIN_PHASES.has(k));
  return rest.length ? rest.map(([k, v]) => `${k} ${fx(v)}`).join(', ') : '-';
}

export function sklearnTable(rows: TrainingRow[]): string {
  return table(
    ['set', 'ours: cluster s (CPU s incl. counts), iter', 'sklearn: fit s (CPU s), iter', 'wall ratio', 'CPU ratio', 'wall per iteration ratio', 'inertia ratio', 'sklearn CSV load s, peak RSS MiB'],
    rows
      .filter((r) => r.sklearn)
      .map((r) => {
        const o = r.ours;
        const s = r.sklearn!;
        return [
          r.set,
          `${fx(o.seconds.cluster)} (${fx(o.cpuSeconds.cluster)}), ${o.iterations}`,
          `${fx(s.fitSeconds)} (${fx(s.fitCpuSeconds)}), ${s.iterations}`,
          fx(o.seconds.cluster / s.fitSeconds, 3),
          fx(o.cpuSeconds.cluster / s.fitCpuSeconds, 3),
          fx(o.seconds.cluster / o.iterations / (s.fitSeconds / s.iterations), 3),
          fx(o.inertia / s.inertia, 4),
          `${fx(s.loadSeconds, 1)}, ${mib(s.maxRssBytes)}`,
        ];
      }),
  );
}

export function publishTable(p: PublishRow): string {
  return table(
    ['model', 'items written', 'requests', 'BatchWriteItem', 'other requests', 'retried items', 'seconds'],
    [[`${p.users} users, ${p.interactions} interactions`, String(p.items), String(p.requests), String(p.batchRequests), String(p.otherRequests), String(p.retriedItems), fx(p.seconds)]],
  );
}

export function servingTable(s: InProcessRow | null, h: HttpRow | null): string {
  const rows: string[][] = [];
  if (s) {
    rows.push(['API handler in-process → dynalite', String(s.requests), fx(s.handler.p50), fx(s.handler.p99), fx(s.handler.max), '-', `${fx(s.readsPerRequest)} reads/request, ${(s.unknownShare * 100).toFixed(0)}% unknown users`]);
    rows.push(['raw GetItem, same dynalite (floor)', String(s.getItem.n), fx(s.getItem.p50), fx(s.getItem.p99), fx(s.getItem.max), '-', 'interleaved with the handler requests']);
  }
  if (h) {
    rows.push([
      `HTTP: autocannon → movierec local (${h.connections} connections, ${h.seconds} s)`,
      String(h.requests),
      fx(h.p50),
      fx(h.p99),
      fx(h.max),
      fx(h.reqPerSec, 0),
      `${h.non2xx} non-2xx, ${h.errors} errors; stack up in ${fx(h.startSeconds, 1)} s`,
    ]);
  }
  return table(['path', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'notes'], rows);
}

/** The bar of the filters: filtered p99 within 1.2 × the unfiltered p99 measured alongside. */
export const FILTER_P99_RATIO = 1.2;

export function filteredTable(f: FilteredRow): string {
  const rows = [
    ['API handler in-process, no filter', String(f.requests), fx(f.unfiltered.p50), fx(f.unfiltered.p99), fx(f.unfiltered.max), `${fx(f.readsUnfiltered)} reads/request`],
    ['API handler in-process, with filters', String(f.requests), fx(f.filtered.p50), fx(f.filtered.p99), fx(f.filtered.max), `${fx(f.readsFiltered)} reads/request; ${(f.fullPages * 100).toFixed(0)}% full pages (10 items)`],
    ['raw GetItem, same dynalite (floor)', String(f.getItem.n), fx(f.getItem.p50), fx(f.getItem.p99), fx(f.getItem.max), 'interleaved with both'],
  ];
  const ratio = f.filtered.p99 / f.unfiltered.p99;
  return [
    table(['path', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'notes'], rows),
    '',
    `Catalogue of ${f.catalogue} movies loaded (generated movies.csv); filters in turn: ${f.queries.map((q) => `\`${q.length > 60 ? q.slice(0, 60) + '…' : q}\``).join(', ')}. ` +
      `Filtered p99 / unfiltered p99 = **${fx(ratio)} ×** (bar ≤ ${FILTER_P99_RATIO} ×: ${ratio <= FILTER_P99_RATIO ? 'pass' : 'FAIL'}); ` +
      `filtered p99 / GetItem p99 = ${fx(f.filtered.p99 / f.getItem.p99)} ×.`,
  ].join('\n');
}

export function coldTable(rows: ColdRow[]): string {
  return table(
    ['bundle', 'minified KB', 'gzip KB', 'node boot ms', 'require ms', 'first answer ms', 'total ms (p25–p75)', 'first event', 'status'],
    rows.map((r) => [
      `${r.name} (${r.entry})`,
      kb(r.bytes),
      kb(r.gzipBytes),
      fx(r.bootMs, 0),
      fx(r.requireMs, 0),
      fx(r.firstMs, 0),
      `${fx(r.totalMs, 0)} (${fx(r.totalP25, 0)}–${fx(r.totalP75, 0)})`,
      r.eventNote,
      r.status,
    ]),
  );
}

export function targetsTable(r: Results): string {
  return table(['target', 'verdict', 'measured (this run)'], targets(r).map((t) => [t.name, t.verdict === 'FAIL' ? '**FAIL**' : t.verdict, t.detail]));
}

export function renderRun(r: Results, header: { date: string; machine: string; load: string; command: string; loadAfter: string }): string {
  const parts: string[] = [
    `## Bench run ${header.date}`,
    '',
    `- command: \`${header.command}\``,
    `- machine: ${header.machine}`,
    `- load average (1/5/15 min) at start: ${header.load}; at end: ${header.loadAfter} (shared machine: compare ratios within one run)`,
    '',
  ];
  if (r.training.length) {
    parts.push('### Training (each run a fresh `movierec train` process; k=15; phases in seconds)', '', trainingTable(r.training), '');
    parts.push(
      '"train total" is the `movierec train` command (CSV → model file) inside its process; "process" adds Node start-up and',
      'loading the bundled CLI.',
      '',
    );
    if (r.training.some((t) => t.sklearn)) {
      parts.push('#### Clustering next to scikit-learn (same run, same matrix, k=15, one init)', '', sklearnTable(r.training), '');
      parts.push(
        'Ratios are ours / scikit-learn. CPU seconds count all threads (both sides use 2 here) and are less sensitive to',
        "other jobs on this shared machine than wall seconds; the bar is on wall seconds. Our CPU seconds also include the",
        'counts phase (single-threaded, see its wall seconds above), so the CPU ratio errs against us. Both start from the',
        "same k-means++ centres (the engine draws numpy's RandomState(0) stream as scikit-learn does), so iterations and",
        'inertia should match; "per iteration" would divide out a difference.',
        '',
      );
    }
    if (r.sklearnNote) parts.push(`scikit-learn: ${r.sklearnNote}`, '');
    for (const t of r.training.filter((x) => x.repeats > 1)) {
      const pairs = t.sklearnRuns.map((sk, i) => t.clusterRuns[i] / sk);
      parts.push(
        `- ${t.set}: ${t.repeats} alternating runs, the median of each side shown; cluster s ${t.clusterRuns.map((x) => fx(x)).join(', ')}; ` +
          `scikit-learn fit s ${t.sklearnRuns.map((x) => fx(x)).join(', ')}` +
          (pairs.length ? `; ratio of each pair ${pairs.map((x) => fx(x, 3)).join(', ')} (median ${fx(median(pairs), 3)})` : ''),
      );
    }
    if (r.training.some((x) => x.repeats > 1)) parts.push('');
    const notes = [...new Set(r.training.flatMap((t) => t.ours.notes))];
    for (const n of notes) parts.push(`- training note: ${n}`);
    if (notes.length) parts.push('');
  }
  if (r.publish) parts.push('### Publish of the 1M model to dynalite', '', publishTable(r.publish), '');
  if (r.inProcess || r.http) parts.push('### Serving GET /users/{id}/recommendations', '', servingTable(r.inProcess, r.http), '');
  if (r.inProcess?.breakdown?.length) {
    parts.push('#### Where an in-process request\'s time goes (ms; DynamoDB parts: wall time of the calls that ended in the request, background counter refreshes included)', '');
    parts.push(table(['part', 'p50', 'p99', 'mean of the slowest 1%'], r.inProcess.breakdown.map((b) => [b.part, fx(b.p50), fx(b.p99), fx(b.slowestMean)])), '');
  }
  if (r.http) parts.push(`local stack: \`${r.http.command}\``, '');
  if (r.filtered) parts.push('### Serving with filters (genre, excluded genres, excluded ids)', '', filteredTable(r.filtered), '');
  if (r.cold.length) {
    parts.push('### Cold start (bundled as lib/ deploys them; medians of fresh Node processes, interleaved)', '', coldTable(r.cold), '');
    for (const c of r.cold.filter((x) => x.name !== 'minimal')) {
      parts.push(
        `- ${c.name} bundle, largest parts (KB of minified output): ${c.topInputs.map(([g, b]) => `${g} ${kb(b)}`).join(', ')}; ` +
          `deployed with the SDK ${c.sdk === 'runtime' ? 'from the Lambda runtime' : 'bundled'}; ${kb(c.sdkExternalBytes)} KB with the SDK ${c.sdk === 'runtime' ? 'bundled' : 'external'}`,
      );
    }
    parts.push('');
  }
  if (r.failures.length) parts.push('### Sections that failed in this run', '', ...r.failures.map((f) => `- ${f}`), '');
  parts.push('### Targets', '', targetsTable(r), '');
  return parts.join('\n');
}
