import { elbow, ELBOW_DEFAULTS, elbowSvg, elbowTable, ELBOW_TITLE, ELBOW_X_TITLE, ELBOW_Y_TITLE, ElbowRow } from '../../offline/elbow';
import { kmeans } from '../../functions/core/kmeans';
import { InputError, KMeansEngine } from '../../functions/core/types';
import { csrFromDense, plantedBinary } from './kmeans-helpers';

describe('elbow', () => {
  test('rows hold each k, its inertia from the engine and the consecutive difference', async () => {
    const x = plantedBinary(120, 40, 4);
    const rows = await elbow(x, { from: 2, to: 6, nInit: 2, randomState: 1 });
    expect(rows.map((r) => r.k)).toEqual([2, 3, 4, 5, 6]);
    for (const r of rows) {
      const direct = await kmeans(x, { k: r.k, nInit: 2, maxIter: 300, tol: 1e-4, randomState: 1 });
      expect(r.inertia).toBe(direct.inertia);
    }
    expect(rows[0].diff).toBeNull();
    for (let i = 1; i < rows.length; i++) expect(rows[i].diff).toBe(rows[i].inertia - rows[i - 1].inertia);
  });

  test('hand-checkable: 1-D points 0, 1, 10, 11 give WCSS 101, 1, 0.5 for k = 1, 2, 3', async () => {
    // k=1: mean 5.5 → 5.5² + 4.5² + 4.5² + 5.5² = 101; k=2: {0,1},{10,11} → 4 × 0.25 = 1;
    // k=3: one pair stays together → 0.5
    const x = csrFromDense([[0], [1], [10], [11]]);
    const rows = await elbow(x, { from: 1, to: 3, nInit: 3 });
    expect(rows[0].inertia).toBeCloseTo(101, 9);
    expect(rows[1].inertia).toBeCloseTo(1, 9);
    expect(rows[2].inertia).toBeCloseTo(0.5, 9);
    expect(rows[1].diff).toBeCloseTo(-100, 9);
  });

  test('uses the engine it is given and reports progress per k', async () => {
    const calls: number[] = [];
    const fake: KMeansEngine = async (_x, o) => {
      calls.push(o.k);
      return { labels: new Int32Array(0), centroids: new Float64Array(0), inertia: 100 / o.k, iterations: 1, inertias: [100 / o.k], bestInit: 0, engine: 'fake' };
    };
    const seen: number[] = [];
    const rows = await elbow(plantedBinary(10, 5, 2), { from: 1, to: 4, onK: (k) => seen.push(k) }, fake);
    expect(calls).toEqual([1, 2, 3, 4]);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(rows.map((r) => r.inertia)).toEqual([100, 50, 100 / 3, 25]);
  });

  test("defaults are the seed's elbow: n_init 10, random_state 0, max_iter 300, tol 1e-4", async () => {
    const seen: Array<Record<string, unknown>> = [];
    const fake: KMeansEngine = async (_x, o) => {
      seen.push({ nInit: o.nInit, randomState: o.randomState, maxIter: o.maxIter, tol: o.tol });
      return { labels: new Int32Array(0), centroids: new Float64Array(0), inertia: 1, iterations: 1, inertias: [1], bestInit: 0, engine: 'fake' };
    };
    await elbow(plantedBinary(10, 5, 2), { from: 2, to: 3 }, fake);
    expect(ELBOW_DEFAULTS).toEqual({ nInit: 10, randomState: 0, maxIter: 300, tol: 1e-4 });
    expect(seen).toEqual([
      { nInit: 10, randomState: 0, maxIter: 300, tol: 1e-4 },
      { nInit: 10, randomState: 0, maxIter: 300, tol: 1e-4 },
    ]);
  });

  test('a bad range is refused', async () => {
    const x = plantedBinary(10, 5, 2);
    await expect(elbow(x, { from: 3, to: 2 })).rejects.toThrow(InputError);
    await expect(elbow(x, { from: 2, to: 11 })).rejects.toThrow(/only 10 users/);
  });

  const rows: ElbowRow[] = [
    { k: 2, inertia: 900, diff: null },
    { k: 3, inertia: 600.5, diff: -299.5 },
    { k: 4, inertia: 500.25, diff: -100.25 },
    { k: 5, inertia: 480, diff: -20.25 },
  ];

  test('table: header, one line per k, values with two decimals, blank first diff', () => {
    const lines = elbowTable(rows).split('\n');
    expect(lines).toHaveLength(2 + rows.length);
    expect(lines[0]).toMatch(/^k\s+inertia \(WCSS\)\s+diff$/);
    expect(lines[2].trim()).toMatch(/^2\s+900\.00$/);
    expect(lines[3]).toMatch(/^3\s+600\.50\s+-299\.50$/);
    expect(new Set(lines.map((l) => l.length)).size).toBeLessThanOrEqual(2); // aligned columns
  });

  test('SVG: a well-formed chart with the title, both axis titles and one point per k', async () => {
    const svg = await elbowSvg(rows);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    for (const t of [ELBOW_TITLE, ELBOW_X_TITLE, ELBOW_Y_TITLE]) expect(svg).toContain(`>${t}<`);
    // the point layer is the group of role "mark" holding symbols: one <path> per data point
    const symbols = svg.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/s);
    expect(symbols).not.toBeNull();
    expect((symbols![1].match(/<path /g) ?? []).length).toBe(rows.length);
    // the line itself
    expect(svg).toMatch(/class="mark-line role-mark/);
    // the y axis starts at zero (inertias 480–900 would otherwise get an axis from about 450): its tick
    // labels are the right-aligned ones left of the plot (negative x), lowest first
    const yTicks = [...svg.matchAll(/<text text-anchor="end" transform="translate\(-[\d.]+,[^"]*"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(yTicks[0]).toBe('0');
    expect(yTicks.at(-1)).toBe('900');
    // tags balance (a cheap well-formedness check: every opened <g> is closed)
    expect((svg.match(/<g[ >]/g) ?? []).length).toBe((svg.match(/<\/g>/g) ?? []).length);
  });
});
