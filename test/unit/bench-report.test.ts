// The benchmark's own arithmetic (bench/lib): percentiles, reading `movierec train`'s summary back, and
// the issue-7 bar verdicts. No timings are asserted here; timings live in `npm run bench`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trainCommand } from '../../bin/cli/commands';
import { insertRun } from '../../bench/lib/record';
import { bars, Results } from '../../bench/lib/report';
import { latency, quantile } from '../../bench/lib/stats';
import { parseSummary } from '../../bench/lib/train-summary';
import type { TrainingRow } from '../../bench/lib/training';

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

describe('issue 7 bars', () => {
  it('passes a 25M run inside every limit', () => {
    const r: Results = {
      ...empty,
      training: [row('25M', { cluster: 10, wall: 59, rss: 1.9e9, inertia: 100.9, skFit: 40, skInertia: 100 })],
    };
    const b = bars(r);
    expect(b.map((x) => x.verdict)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(b[0].detail).toContain('0.250 ×');
  });

  it('fails each limit just past it', () => {
    const lat = (p99: number) => ({ n: 1, p50: 1, p99, max: p99 });
    const r: Results = {
      ...empty,
      training: [row('25M', { cluster: 10.1, wall: 60.5, rss: 2.1e9, inertia: 101.1, skFit: 40, skInertia: 100 })],
      inProcess: { requests: 1, handler: lat(2.1), getItem: lat(1), readsPerRequest: 2, unknownShare: 0.1 },
      cold: [
        {
          name: 'api', entry: 'a.ts', bytes: 300_001, gzipBytes: 1, sdkExternalBytes: 1, sdk: 'runtime', eventNote: '', topInputs: [], runs: 1,
          bootMs: 1, requireMs: 1, firstMs: 1, totalMs: 1, totalP25: 1, totalP75: 1, status: '200',
        },
      ],
    };
    expect(bars(r).map((x) => x.verdict)).toEqual(['FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL', 'FAIL']);
  });

  it('says the 25M bars were not measured when the run had no 25M set', () => {
    const r: Results = { ...empty, training: [row('1M', { cluster: 1, wall: 2, rss: 1e8, inertia: 100, skFit: 2, skInertia: 100 })] };
    const b = bars(r);
    expect(b[0].verdict).toBe('not measured');
    expect(b[0].detail).toContain('1M: 0.500 ×');
    expect(b[1].verdict).toBe('not measured');
    expect(b[2]).toMatchObject({ name: expect.stringContaining('(1M)'), verdict: 'pass' });
  });
});

describe('insertRun', () => {
  const intro = '## npm run bench (issue 7)\n\nabout\n';
  it('starts the file with the intro when it is missing', () => {
    expect(insertRun('', '## Bench run B\n\nb\n', intro)).toBe('## npm run bench (issue 7)\n\nabout\n\n## Bench run B\n\nb\n');
  });
  it('goes after the earlier runs and before a section someone else appended', () => {
    const file = '# Benchmarks\n\n## npm run bench (issue 7)\n\nabout\n\n## Bench run A\n\na\n\n## Soak\n\n### Soak run 1\n\ns\n';
    expect(insertRun(file, '## Bench run B\n\nb\n', intro)).toBe(
      '# Benchmarks\n\n## npm run bench (issue 7)\n\nabout\n\n## Bench run A\n\na\n\n## Bench run B\n\nb\n\n## Soak\n\n### Soak run 1\n\ns\n',
    );
  });
  it('appends at the end when nothing follows the runs, and keeps sections before ours', () => {
    const file = '# Benchmarks\n\n## Other\n\no\n\n## npm run bench (issue 7)\n\nabout\n\n## Bench run A\n\na\n';
    expect(insertRun(file, '## Bench run B\n\nb', intro)).toBe(`${file}\n## Bench run B\n\nb\n`);
  });
});
