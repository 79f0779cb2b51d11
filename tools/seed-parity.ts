// `movierec train --algorithm seed` side by side with the seed's pipeline (tools/seed_reference.py):
// every user's final cluster and top-20 list. See tools/seed-parity-lib.ts.
//
//   node bin/run-ts.js tools/seed-parity.ts --ratings FILE [--seed 0]
//       runs both on FILE (e.g. ml-latest-small's ratings.csv) and prints the evidence; exit code 1 when
//       any user differs
//   node bin/run-ts.js tools/seed-parity.ts --write-fixture
//       regenerates test/fixtures/seed/seed-reference.json from the generated data set GENERATE
//   node bin/run-ts.js tools/seed-parity.ts --elbow --ratings FILE [--from 2 --to 20] [--n-init N]
//       `movierec elbow`'s WCSS table (its defaults unless --n-init is given) next to the seed's elbow
//       (tools/seed_elbow.py: n_init 10, random_state 0; dense and CSR); exit code 1 when a k differs from
//       the CSR fit by more than 1e-9 (relative)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { elbow, ELBOW_DEFAULTS } from '../offline/elbow';
import { buildMatrix } from '../functions/core/matrix';
import { readRatings } from '../functions/core/ratings';
import {
  compareSeed,
  GENERATE,
  liveReference,
  movierecSeed,
  PYTHON,
  pythonAvailable,
  REFERENCE_JSON,
  REPO,
  SeedComparison,
  SeedReference,
  TOP_N,
  writeGenerated,
} from './seed-parity-lib';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      ratings: { type: 'string' },
      seed: { type: 'string' },
      'write-fixture': { type: 'boolean' },
      elbow: { type: 'boolean' },
      from: { type: 'string', default: '2' },
      to: { type: 'string', default: '20' },
      'n-init': { type: 'string' },
    },
  });
  if (!a.ratings && !a['write-fixture']) throw new Error('usage: tools/seed-parity.ts --ratings FILE [--seed 0] | --write-fixture | --elbow --ratings FILE');
  if (!pythonAvailable()) throw new Error('/usr/bin/python3 lacks scikit-learn or pandas (Debian: apt-get install python3-sklearn python3-pandas)');
  const seed = a.seed === undefined ? 0 : Number(a.seed);
  if (a.elbow) {
    if (!a.ratings) throw new Error('--elbow needs --ratings FILE');
    await compareElbow(a.ratings, Number(a.from), Number(a.to), a['n-init'] === undefined ? undefined : Number(a['n-init']));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'seed-parity-'));
  try {
    const ratings = a['write-fixture'] ? await writeGenerated(dir) : a.ratings!;
    const ref: SeedReference = liveReference(ratings, seed);
    const ours = await movierecSeed(ratings, seed);
    report(ref, ours);
    const cmp = compareSeed(ref, ref.users, ours);
    const line = (what: string, c: SeedComparison) =>
      console.log(`${what}: final cluster ${c.sameCluster}/${c.users} users equal; top-${TOP_N} ${c.sameTop}/${c.users} equal`);
    line('movierec vs the seed (dense fit)', cmp);
    for (const d of cmp.differ) {
      console.log(`  user ${d.userId}: cluster ${d.cluster[0]} (seed) vs ${d.cluster[1]}; top ${d.top[0].join(' ')} vs ${d.top[1].join(' ')}`);
    }
    if (ref.csr_pipeline) line("movierec vs the same pipeline on scikit-learn's CSR fit", compareSeed(ref.csr_pipeline, ref.users, ours));
    if (a['write-fixture']) {
      const why = [
        ref.dissolved.length === 0 && 'K-means left no cluster to dissolve',
        !ref.kmeans.dense_csr_same_labels && "scikit-learn's dense and CSR fits end at different labels",
        ref.semantics_differ.length === 0 && 'the two fixClusters semantics move every user alike',
      ].filter(Boolean);
      if (why.length) throw new Error(`GENERATE is no longer a useful fixture: ${why.join('; ')}.`);
      mkdirSync(dirname(REFERENCE_JSON), { recursive: true });
      writeFileSync(REFERENCE_JSON, JSON.stringify({ ...ref, generate: GENERATE }) + '\n');
      console.log(`wrote ${REFERENCE_JSON}`);
    }
    if (cmp.sameCluster !== cmp.users || cmp.sameTop !== cmp.users) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compareElbow(ratings: string, from: number, to: number, nInit: number | undefined): Promise<void> {
  const py = JSON.parse(
    execFileSync(PYTHON, [join(REPO, 'tools', 'seed_elbow.py'), ratings, '--from', String(from), '--to', String(to)], {
      encoding: 'utf8',
      maxBuffer: 16 << 20,
    }),
  ) as { sklearn: string; rows: Array<{ k: number; dense: number; csr: number }> };
  const { interactions } = await readRatings(ratings);
  const rows = await elbow(buildMatrix(interactions).matrix, { from, to, nInit });
  const rel = (a: number, b: number) => (a - b) / b;
  console.log(`movierec elbow (n_init ${nInit ?? ELBOW_DEFAULTS.nInit}, seed ${ELBOW_DEFAULTS.randomState}) vs the seed's elbow (scikit-learn ${py.sklearn}, n_init 10, random_state 0)`);
  console.log('k   movierec     seed (dense)  vs dense   sklearn CSR   vs CSR');
  let worstDense = { k: 0, d: 0 };
  let worstCsr = { k: 0, d: 0 };
  rows.forEach((r, i) => {
    const p = py.rows[i];
    const dd = rel(r.inertia, p.dense);
    const dc = rel(r.inertia, p.csr);
    if (Math.abs(dd) > Math.abs(worstDense.d)) worstDense = { k: r.k, d: dd };
    if (Math.abs(dc) > Math.abs(worstCsr.d)) worstCsr = { k: r.k, d: dc };
    const f = (v: number) => v.toFixed(2).padStart(12);
    const g = (v: number) => `${(100 * v).toFixed(3)}%`.padStart(9);
    console.log(`${String(r.k).padEnd(3)} ${f(r.inertia)} ${f(p.dense)} ${g(dd)} ${f(p.csr)} ${g(dc)}`);
  });
  const denseSame = py.rows.filter((p) => Math.abs(rel(p.csr, p.dense)) <= 1e-9).length;
  console.log(
    `largest deviation: ${(100 * worstDense.d).toFixed(3)}% from the dense fit (k=${worstDense.k}), ` +
      `${(100 * worstCsr.d).toFixed(3)}% from the CSR fit (k=${worstCsr.k}); scikit-learn's dense and CSR fits agree at ${denseSame} of ${py.rows.length} k`,
  );
  if (Math.abs(worstCsr.d) > 1e-9) process.exitCode = 1;
}

function report(ref: SeedReference, ours: Awaited<ReturnType<typeof movierecSeed>>): void {
  const k = ref.kmeans;
  console.log(
    `reference: tools/seed_reference.py, scikit-learn ${ref.sklearn}, random_state ${ref.params.random_state}; ` +
      `${ref.data.users} users, ${ref.data.movies} movies, ${ref.data.interactions} interactions (the whole file)`,
  );
  console.log(
    `K-means: scikit-learn dense inertia ${k.dense.inertia.toFixed(3)} (${k.dense.iterations} iterations), ` +
      `CSR ${k.csr.inertia.toFixed(3)} (${k.csr.iterations}); ` +
      (k.dense_csr_same_labels ? 'same labels' : `labels differ for ${k.dense_csr_users_differ.length} users: ${k.dense_csr_users_differ.join(' ')}`),
  );
  console.log(`movierec: inertia ${ours.inertia.toFixed(3)} (${ours.iterations} iterations)`);
  console.log(
    `fixClusters: dissolved ${ref.dissolved.join(' ') || 'none'}; ${ref.moves.length} users moved; ` +
      `the seed appends ${ref.duplicate_appends} duplicate entries, movierec none`,
  );
  console.log(`users whose final cluster depends on the semantics: ${ref.semantics_differ.join(' ') || 'none'}`);
  for (const u of ref.semantics_differ) {
    const seedMove = ref.moves.find((m) => m.userId === u)!;
    const oldMove = ref.old_semantics_moves.find((m) => m.userId === u)!;
    const n = ours.movieCounts[ours.users.indexOf(u)];
    const ranked = Object.entries(seedMove.shares ?? {}).sort((x, y) => y[1] - x[1] || Number(x[0]) - Number(y[0]));
    const ourMove = ours.moves.find((m) => m.userId === u);
    console.log(
      `  user ${u} (${n} movies, from cluster ${seedMove.from}): against the original lists ` +
        ranked.slice(0, 3).map(([c, s]) => `${c} ${pct(s)}`).join(', ') +
        ` → ${seedMove.to}; with earlier appends visible → ${oldMove.to} (${pct(oldMove.share)}); ` +
        `movierec → ${ourMove ? `${ourMove.to} (${pct(ourMove.share)})` : 'not moved'}`,
    );
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
