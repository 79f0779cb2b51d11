// The elbow method: within-cluster sum of squares (inertia) for each k in a range, the consecutive
// differences, as a text table and as an SVG line chart (vega-lite compiled to vega, rendered
// headless with renderer 'none': no canvas, no native modules).
import { kmeans } from '../functions/core/kmeans';
import { CsrMatrix, InputError, KMeansEngine } from '../functions/core/types';

/** The seed's elbow: KMeans(k, init='k-means++', n_init=10, max_iter=300, random_state=0) for each k. */
export const ELBOW_DEFAULTS = { nInit: 10, randomState: 0, maxIter: 300, tol: 1e-4 } as const;

export interface ElbowOptions {
  from: number;
  to: number;
  /** default ELBOW_DEFAULTS.nInit (10, the seed's) */
  nInit?: number;
  /** default ELBOW_DEFAULTS.randomState (0, the seed's random_state) */
  randomState?: number;
  maxIter?: number;
  tol?: number;
  threads?: number;
  /** called before each k is clustered */
  onK?: (k: number) => void;
}

export interface ElbowRow {
  k: number;
  inertia: number;
  /** inertia(k) − inertia(k − 1) (numpy.diff); null for the first k of the range */
  diff: number | null;
}

export async function elbow(x: CsrMatrix, o: ElbowOptions, engine: KMeansEngine = kmeans): Promise<ElbowRow[]> {
  if (!Number.isInteger(o.from) || !Number.isInteger(o.to) || o.from < 1 || o.to < o.from) {
    throw new InputError('bad_param', `The elbow range must be integers with 1 ≤ from ≤ to, got from ${o.from} to ${o.to}.`);
  }
  if (o.to > x.nRows) {
    throw new InputError('bad_param', `The elbow range ends at k = ${o.to} but there are only ${x.nRows} users; lower --to.`);
  }
  const rows: ElbowRow[] = [];
  for (let k = o.from; k <= o.to; k++) {
    o.onK?.(k);
    const r = await engine(x, {
      k,
      nInit: o.nInit ?? ELBOW_DEFAULTS.nInit,
      maxIter: o.maxIter ?? ELBOW_DEFAULTS.maxIter,
      tol: o.tol ?? ELBOW_DEFAULTS.tol,
      randomState: o.randomState ?? ELBOW_DEFAULTS.randomState,
      threads: o.threads,
    });
    const prev = rows.length > 0 ? rows[rows.length - 1].inertia : null;
    rows.push({ k, inertia: r.inertia, diff: prev === null ? null : r.inertia - prev });
  }
  return rows;
}

/** Fixed-width text table: k, inertia (WCSS), diff. */
export function elbowTable(rows: ElbowRow[]): string {
  const cells = [
    ['k', 'inertia (WCSS)', 'diff'],
    ...rows.map((r) => [String(r.k), r.inertia.toFixed(2), r.diff === null ? '' : r.diff.toFixed(2)]),
  ];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const ELBOW_TITLE = 'Elbow method (WCSS by k)';
export const ELBOW_X_TITLE = 'Number of clusters (k)';
export const ELBOW_Y_TITLE = 'Inertia (within-cluster sum of squares)';

/** The chart as a vega-lite spec (exported for reuse, e.g. an HTML report). The y axis starts at zero, so
 * the drop from one k to the next is drawn in proportion to the whole WCSS. */
export function elbowSpec(rows: ElbowRow[]): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: ELBOW_TITLE,
    width: 520,
    height: 320,
    background: 'white',
    data: { values: rows.map((r) => ({ k: r.k, inertia: r.inertia })) },
    mark: { type: 'line', point: { filled: true, size: 50 } },
    encoding: {
      x: { field: 'k', type: 'quantitative', title: ELBOW_X_TITLE, axis: { tickMinStep: 1 }, scale: { nice: false } },
      y: { field: 'inertia', type: 'quantitative', title: ELBOW_Y_TITLE, scale: { zero: true } },
      tooltip: [{ field: 'k' }, { field: 'inertia', format: ',.1f' }],
    },
  };
}

/** Renders the chart to a standalone SVG string. */
export async function elbowSvg(rows: ElbowRow[]): Promise<string> {
  const [vega, vl] = await Promise.all([
    importEsm('vega') as Promise<typeof import('vega')>,
    importEsm('vega-lite') as Promise<typeof import('vega-lite')>,
  ]);
  const compiled = vl.compile(elbowSpec(rows) as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** vega is ESM-only and its node build has a top-level await, which a CommonJS bundle (bin/run-ts.js)
 * cannot hold. A NON-literal import() is left alone by esbuild's bundler, so Node loads vega natively
 * at run time; under jest the transform turns it into require() of the transformed package. */
function importEsm(name: string): Promise<unknown> {
  return import(name);
}
