// The benchmark's own arithmetic (bench/lib): percentiles, reading `movierec train`'s summary back, and
// the targets' verdicts and BENCHMARKS.md's summary. No timings are asserted here; timings live in `npm run bench`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trainCommand } from '../../bin/cli/commands';
import { insertRun } from '../../bench/lib/record';
import { Results } from '../../bench/lib/report';
import { insertSummary, mergeLatest, renderSummary, SUMMARY_END, SUMMARY_START } from '../../bench/lib/summary';
import { distributedTargets, targets, type TargetResult } from '../../bench/lib/targets';
import type { DistributedRun } from '../../bench/lib/distributed';
import { latency, quantile } from '../../bench/lib/stats';
import { parseSummary } from '../../bench/lib/train-summary';
import { CONFIGS, type TrainingRow } from '../../bench/lib/training';

describe('bench stats', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(latency(xs)).toEqual({ n: 100, p50: 50, p99: 99, max: 100 });
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('parseSummary', () => {
  it('reads a hand-written summary in the CLI format', () => {
    const lines = [
      'users 160,000 · movies 60,000 · interactions 25,000,000 · rows read 25,000,000 · rejected 0 · duplicates collapsed 0',
      'algorithm seed · k-means: k=15 n_init=1 seed=0 · best inertia 21124182.4 after 38 iterations',
      'cluster sizes before fix: 3 2 1',
      'note: nInit lowered from 10 to 3: many interactions',
      'seconds: parse 2.40 · matrix 1.61 · cluster 12.31 · counts 1.32 · write 3.97 · total 21.6 s',
      'model written to m.json',
    ];
    expect(parseSummary(lines)).toEqual({
      seconds: { parse: 2.4, matrix: 1.61, cluster: 12.31, counts: 1.32, write: 3.97 },
      inertia: 21124182.4,
      iterations: 38,
      nInit: 1,
      k: 15,
      algorithm: 'seed',
      users: 160000,
      movies: 60000,
      interactions: 25000000,
      notes: ['nInit lowered from 10 to 3: many interactions'],
    });
  });

  it('matches what `movierec train` prints and writes today', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-summary-'));
    const csv = path.join(dir, 'r.csv');
    const rows = ['userId,movieId'];
    for (let u = 1; u <= 40; u++) for (let m = 1; m <= 6; m++) rows.push(`${u},${(u % 4) * 10 + m}`);
    writeFileSync(csv, rows.join('\n') + '\n');
    const captured: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void captured.push(...a.map(String).join(' ').split('\n')));
    try {
      await trainCommand(['--ratings', csv, '--out', path.join(dir, 'm.json'), '--algorithm', 'seed', '--k', '4', '--n-init', '1', '--skip-check', '--quiet']);
    } finally {
      spy.mockRestore();
    }
    const got = parseSummary(captured);
    const snap = JSON.parse(readFileSync(path.join(dir, 'm.json'), 'utf8'));
    rmSync(dir, { recursive: true, force: true });
    expect(got.users).toBe(40);
    expect(got.movies).toBe(snap.data.movies);
    expect(got.interactions).toBe(240);
    expect(got.iterations).toBe(snap.training.iterations);
    expect(got.inertia).toBeCloseTo(snap.training.inertia, 1);
    expect(got.nInit).toBe(1);
    expect(got.k).toBe(4);
    expect(got.algorithm).toBe('seed');
    expect(Object.keys(got.seconds)).toEqual(['parse', 'matrix', 'cluster', 'counts', 'write']);
  });
});

function row(set: string, o: { cluster: number; wall: number; rss: number; inertia: number; skFit: number; skInertia: number }): TrainingRow {
  return {
    set,
    config: 'one init, no fix',
    command: 'movierec train …',
    ours: {
      wallSeconds: o.wall,
      maxRssBytes: o.rss,
      cpuSeconds: { cluster: o.cluster * 2 },
      seconds: { parse: 1, matrix: 1, cluster: o.cluster, counts: 1, write: 1 },
      inertia: o.inertia,
      iterations: 30,
      nInit: 1,
      k: 15,
      algorithm: 'seed',
      users: 1,
      movies: 1,
      interactions: 1,
      notes: [],
    },
    processSeconds: o.wall + 0.5,
    sklearn: { version: '1.2.1', loadSeconds: 1, fitSeconds: o.skFit, fitCpuSeconds: o.skFit * 2, inertia: o.skInertia, iterations: 30, nnz: 1, maxRssBytes: 1 },
    repeats: 1,
    clusterRuns: [o.cluster],
    sklearnRuns: [o.skFit],
    modelFile: 'm.json',
  };
}

const empty: Results = { training: [], sklearnNote: null, publish: null, inProcess: null, http: null, cold: [], failures: [] };

describe('targets', () => {
  const lat = (p99: number) => ({ n: 1, p50: 1, p99, max: p99 });
  const api = (bytes: number) => ({
    name: 'api', entry: 'a.ts', bytes, gzipBytes: 1, sdkExternalBytes: 1, sdk: 'runtime' as const, eventNote: '', topInputs: [], runs: 1,
    bootMs: 1, requireMs: 1, firstMs: 1, totalMs: 1, totalP25: 1, totalP75: 1, status: '200',
  });
  const verdicts = (r: Results) => Object.fromEntries(targets(r).map((t) => [t.id, t.verdict]));

  it('passes a run at every limit', () => {
    const r: Results = {
      ...empty,
      training: [
        row('25M', { cluster: 4, wall: 15, rss: 1.0e9, inertia: 101, skFit: 40, skInertia: 100 }),
        { ...row('25M', { cluster: 9, wall: 30, rss: 1.5e9, inertia: 1, skFit: 0, skInertia: 0 }), config: CONFIGS.taste.label, sklearn: null },
      ],
      inProcess: { requests: 1, handler: lat(1.5), getItem: lat(1), readsPerRequest: 2, unknownShare: 0.1 },
      cold: [api(300_000)],
    };
    expect(verdicts(r)).toEqual({ 'seed-fit': 'pass', 'seed-train': 'pass', 'default-train': 'pass', inertia: 'pass', serving: 'pass', 'api-bundle': 'pass' });
    expect(targets(r)[0].detail).toContain('0.100 ×');
  });

  it('fails each limit just past it', () => {
    const r: Results = {
      ...empty,
      training: [
        row('25M', { cluster: 4.1, wall: 15.1, rss: 0.9e9, inertia: 101.1, skFit: 40, skInertia: 100 }),
        { ...row('25M', { cluster: 9, wall: 29, rss: 1.51e9, inertia: 1, skFit: 0, skInertia: 0 }), config: CONFIGS.taste.label, sklearn: null },
      ],
      inProcess: { requests: 1, handler: lat(1.51), getItem: lat(1), readsPerRequest: 2, unknownShare: 0.1 },
      cold: [api(300_001)],
    };
    expect(verdicts(r)).toEqual({ 'seed-fit': 'FAIL', 'seed-train': 'FAIL', 'default-train': 'FAIL', inertia: 'FAIL', serving: 'FAIL', 'api-bundle': 'FAIL' });
  });

  it('fails the seed path on memory alone', () => {
    const r: Results = { ...empty, training: [row('25M', { cluster: 1, wall: 10, rss: 1.01e9, inertia: 100, skFit: 40, skInertia: 100 })] };
    expect(verdicts(r)['seed-train']).toBe('FAIL');
  });

  it('says the 25M targets were not measured when the run had no 25M set', () => {
    const r: Results = { ...empty, training: [row('1M', { cluster: 1, wall: 2, rss: 1e8, inertia: 100, skFit: 2, skInertia: 100 })] };
    const t = targets(r);
    expect(t[0].verdict).toBe('not measured');
    expect(t[0].detail).toContain('1M: 0.500 ×');
    expect(verdicts(r)['seed-train']).toBe('not measured');
    expect(verdicts(r)['default-train']).toBe('not measured');
    expect(verdicts(r).serving).toBe('not measured');
  });
});

describe('distributed targets', () => {
  const step = (maxRssMiB: number) => ({ invocations: 1, maxRssMiB, seconds: 1, maxSeconds: 1, s3: { gets: 0, getBytes: 0, puts: 0, putBytes: 0 } });
  const run = (status: string, peaks: number[]): DistributedRun => ({
    set: '100M', ratings: 1e8, users: 1, movies: 1, bytes: 1, partitions: 32, processes: 1, status, wallSeconds: 893, phases: [],
    steps: peaks.map((p, i) => [`step${i}`, step(p)] as [string, ReturnType<typeof step>]),
  });

  it('passes a published run whose every invocation fits 3,008 MB, and names the largest', () => {
    const [t] = distributedTargets([run('published', [1988, 400])]);
    expect(t).toMatchObject({ id: 'distributed-100M-32', verdict: 'pass' });
    expect(t.detail).toContain('largest peak 1988 MiB (step0)');
  });

  it('fails a run that did not publish, or one invocation past 3,008 MB (2,868 MiB)', () => {
    expect(distributedTargets([run('failed', [500])])[0].verdict).toBe('FAIL');
    expect(distributedTargets([run('published', [2868])])[0].verdict).toBe('pass');
    expect(distributedTargets([run('published', [2869, 10])])[0].verdict).toBe('FAIL');
  });
});

describe('summary', () => {
  const run = (date: string) => ({ date, command: 'npm run bench', machine: 'm', load: '1.00 / 2.00 / 3.00' });
  const t = (id: string, verdict: TargetResult['verdict'], detail: string): TargetResult => ({ id, name: `target ${id}`, verdict, detail });

  it('keeps what a partial run did not measure and replaces what it did', () => {
    const first = mergeLatest({}, [t('a', 'pass', 'a1'), t('b', 'FAIL', 'b1')], run('D1'));
    const second = mergeLatest(first, [t('a', 'not measured', 'how'), t('b', 'pass', 'b2')], run('D2'));
    expect(second.a.detail).toBe('a1');
    expect(second.a.run.date).toBe('D1');
    expect(second.b).toMatchObject({ verdict: 'pass', detail: 'b2', run: { date: 'D2' } });
    const text = renderSummary(second, [t('a', 'not measured', 'how'), t('b', 'pass', 'b2'), t('c', 'not measured', 'run with --x')]);
    expect(text).toContain('| target a | pass | a1 | D1,');
    expect(text).toContain('| target c | not measured | run with --x | - |');
    // a target this run does not list keeps its row
    expect(renderSummary(second, [t('b', 'pass', 'b2')])).toContain('| target a | pass | a1 | D1,');
  });

  it('inserts the block before the first section once, then replaces it in place', () => {
    const file = '# Benchmarks\n\nabout\n\n## npm run bench\n\nruns\n';
    const once = insertSummary(file, `${SUMMARY_START}\nX\n${SUMMARY_END}`);
    expect(once.indexOf('X')).toBeLessThan(once.indexOf('## npm run bench'));
    const twice = insertSummary(once, `${SUMMARY_START}\nY\n${SUMMARY_END}`);
    expect(twice).not.toContain('\nX\n');
    expect(twice.split(SUMMARY_START).length).toBe(2);
    expect(twice.replace('\nY\n', '\nX\n')).toBe(once);
  });
});

describe('insertRun', () => {
  const intro = '## npm run bench\n\nabout\n';
  it('starts the file with the intro when it is missing', () => {
    expect(insertRun('', '## Bench run B\n\nb\n', intro)).toBe('## npm run bench\n\nabout\n\n## Bench run B\n\nb\n');
  });
  it('goes after the earlier runs and before a section someone else appended', () => {
    const file = '# Benchmarks\n\n## npm run bench\n\nabout\n\n## Bench run A\n\na\n\n## Soak\n\n### Soak run 1\n\ns\n';
    expect(insertRun(file, '## Bench run B\n\nb\n', intro)).toBe(
      '# Benchmarks\n\n## npm run bench\n\nabout\n\n## Bench run A\n\na\n\n## Bench run B\n\nb\n\n## Soak\n\n### Soak run 1\n\ns\n',
    );
  });
  it('appends at the end when nothing follows the runs, and keeps sections before ours', () => {
    const file = '# Benchmarks\n\n## Other\n\no\n\n## npm run bench\n\nabout\n\n## Bench run A\n\na\n';
    expect(insertRun(file, '## Bench run B\n\nb', intro)).toBe(`${file}\n## Bench run B\n\nb\n`);
  });
});
