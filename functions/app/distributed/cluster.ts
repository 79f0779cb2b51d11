// The clustering loop of a distributed training, one K-means restart at a time (core/distributed/kmeans.ts
// has the arithmetic and why it equals the engine's):
//   SeedStart (C) → [TrySeeds (map) → PickSeed (C)] × k → [Assign (map) → UpdateCentres (map over the 8
//   column ranges) → Converge (C)] until converged → FinishRestart (C)
// The k-means++ draws come from numpy's stream, saved between steps (RandomState.getState), so every
// restart of every clustering draws what the single-function engine draws.
import { BLOCK_SIZE, blockPart, combineBlocks, searchBlocked, totalOf, type BlockPart } from '../../core/distributed/blocks';
import type { SectionArray } from '../../core/distributed/binary';
import {
  centresFromRows,
  columnRange,
  combineRanges,
  farthestRows,
  nextStep,
  partialSums,
  planRelocation,
  trialPartition,
  trialsFor,
  updateRange,
  type Candidate,
  type MovedRow,
  type RangeSums,
} from '../../core/distributed/kmeans';
import { unitValues } from '../../core/distributed/shards';
import { MAX_K, RANGES } from '../../core/kmeans';
import { RandomState } from '../../core/kmeans/mt19937';
import { assignRows, paddedK, rowNorms } from '../../core/kmeans/partition';
import { InputError } from '../../core/types';
import type { RunStore } from '../../ports/training-run';
import { type DistributedDeps, setStatus } from './deps';
import { gatherRows } from './gather';
import { getContainer, getJson, putContainer, putJson, readHeader, readSections, runKeys } from './run-files';
import { loadShard } from './shards';
import { type CentralEvent, type Job, type Loop, loadRun, type RunState, saveRun, type WorkerEvent } from './state';

/** Per clustering: the random stream, the restart in progress and the best restart so far. */
interface JobState {
  rng: { key: number[]; pos: number };
  restart: number;
  /** rows chosen as centres so far (this restart) */
  chosen: number[];
  /** the candidate of the last round that won (its distances are the next round's "closest") */
  bestPrev: number;
  pot: number;
  iterations: number;
  inertias: number[];
  starts: number[][];
  best: { restart: number; pass: number; inertia: number; iterations: number } | null;
}

/** Parent-history events of a Standard execution (AWS: 25,000 at most), per seeding round and per Lloyd
 * iteration of this workflow, and a margin for the rest; an execution that could run out continues as a new
 * one after a restart (ContinueAsNew). Estimates from the state types each pass goes through. */
export const HISTORY = { limit: 20_000, perRound: 14, perIteration: 24, fixed: 400 };

const jobOf = (run: RunState, loop: Loop): Job => run.model!.jobs[loop.job];

async function loadJob(runs: RunStore, v: string, j: number): Promise<JobState> {
  return getJson<JobState>(runs, runKeys.job(v, j));
}
const saveJob = (runs: RunStore, v: string, j: number, s: JobState) => putJson(runs, runKeys.job(v, j), s);

/** A clustering whose centres were fitted centrally (a sampled job): its state before the one pass that
 * labels every user, with the fit's iterations. */
export async function saveJobState(runs: RunStore, v: string, j: number, iterations: number): Promise<void> {
  await saveJob(runs, v, j, { rng: { key: [], pos: 0 }, restart: 0, chosen: [], bestPrev: 0, pot: 0, iterations, inertias: [], starts: [], best: null });
}

/** Rows of the matrix as candidates (with the clustering's features). */
async function candidatesOf(runs: RunStore, run: RunState, rows: number[], features: Job['features']): Promise<Candidate[]> {
  const { x } = await gatherRows(runs, run, rows);
  const values = features === 'unit' ? unitValues(x) : null;
  const feat = { ...x, values };
  const norms = rowNorms(feat);
  return rows.map((row, i) => ({
    row,
    cols: x.indices.slice(x.indptr[i], x.indptr[i + 1]),
    vals: values ? values.slice(x.indptr[i], x.indptr[i + 1]) : null,
    norm: norms[i],
  }));
}

async function writeCandidates(runs: RunStore, v: string, loop: Loop, cands: Candidate[]): Promise<void> {
  const sections: Record<string, SectionArray> = {};
  cands.forEach((c, i) => {
    sections[`c${i}`] = c.cols;
    if (c.vals) sections[`v${i}`] = c.vals;
  });
  await putContainer(runs, runKeys.candidates(v, loop.job, loop.restart, loop.round), { rows: cands.map((c) => c.row), norms: cands.map((c) => c.norm) }, sections);
}

async function readCandidates(runs: RunStore, v: string, loop: Loop): Promise<Candidate[]> {
  const c = await getContainer<{ rows: number[]; norms: number[] }>(runs, runKeys.candidates(v, loop.job, loop.restart, loop.round));
  return c.meta.rows.map((row, i) => ({ row, cols: c.i32(`c${i}`), vals: c.has(`v${i}`) ? c.f64(`v${i}`) : null, norm: c.meta.norms[i] }));
}

// ------------------------------------------------------------------------------------------ seeding

/** SeedStart: the restart's first centre, `randint(n)` from the clustering's stream. */
export async function seedStart(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const loop = event.loop!;
  const run = await loadRun(deps.runs, event.version);
  const job = jobOf(run, loop);
  const n = run.shards!.n;
  if (job.k > MAX_K) throw new InputError('bad_param', `K-means k (${job.k}) is above ${MAX_K}, the most the default engine supports; choose a smaller k.`);
  if (job.k > n) throw new InputError('bad_param', `K-means k (${job.k}) exceeds the number of users (${n}); choose a smaller k.`);
  let state: JobState;
  if (loop.restart === 0) {
    state = { rng: new RandomState(job.randomState).getState(), restart: 0, chosen: [], bestPrev: 0, pot: 0, iterations: 0, inertias: [], starts: [], best: null };
  } else {
    state = await loadJob(deps.runs, run.version, loop.job);
    state.restart = loop.restart;
    state.chosen = [];
  }
  const rs = RandomState.fromState(state.rng);
  const first = rs.randint(n);
  state.rng = rs.getState();
  const next: Loop = { ...loop, next: 'trial', round: 0, iteration: 0, final: false, moved: 0 };
  await writeCandidates(deps.runs, run.version, next, await candidatesOf(deps.runs, run, [first], job.features));
  await saveJob(deps.runs, run.version, loop.job, state);
  await setStatus(deps, run.version, { phase: 'seeding', job: loop.job, jobs: run.model!.jobs.length, restart: loop.restart, round: 0, k: job.k });
  return next;
}

interface TrialMeta {
  blocks: BlockPart[];
}

/** TrySeeds (worker): this partition's distances to the round's candidates, and their block sums. */
export async function trySeeds(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const loop = event.loop!;
  const q = event.item;
  const run = await loadRun(deps.runs, event.version);
  const job = jobOf(run, loop);
  const closestOf = async (): Promise<Float64Array | null> => {
    if (loop.round === 0) return null;
    const state = await loadJob(deps.runs, run.version, loop.job);
    const prev = runKeys.trial(run.version, loop.job, loop.restart, loop.round - 1, q);
    return (await readSections(deps.runs, prev, [`d${state.bestPrev}`])).sections[`d${state.bestPrev}`] as Float64Array;
  };
  const [{ x }, closest, cands] = await Promise.all([
    loadShard(deps.runs, run.version, q, run.index!.d, job.features),
    closestOf(),
    readCandidates(deps.runs, run.version, loop),
  ]);
  const dist = trialPartition(x, rowNorms(x), closest, cands);
  const rowStart = run.shards!.rowStarts[q];
  const meta: TrialMeta = { blocks: dist.map((d) => blockPart(d, rowStart, run.shards!.n)) };
  const sections: Record<string, SectionArray> = {};
  dist.forEach((d, t) => (sections[`d${t}`] = d));
  await putContainer(deps.runs, runKeys.trial(run.version, loop.job, loop.restart, loop.round, q), meta, sections);
}

/** PickSeed: the candidate with the lowest potential becomes a centre; then the next round's candidates,
 * drawn from numpy's stream over the blocked cumulative sum of the new distances. */
export async function pickSeed(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const loop = event.loop!;
  const run = await loadRun(deps.runs, event.version);
  const job = jobOf(run, loop);
  const { n, rowStarts, rows } = run.shards!;
  const P = rowStarts.length;
  const state = await loadJob(deps.runs, run.version, loop.job);
  const trialKey = (q: number) => runKeys.trial(run.version, loop.job, loop.restart, loop.round, q);
  const metas = await Promise.all(Array.from({ length: P }, (_, q) => readHeader<TrialMeta>(deps.runs, trialKey(q))));
  const cands = await readCandidates(deps.runs, run.version, loop);
  let best = 0;
  let bestPot = Infinity;
  let bestSums: Float64Array | null = null;
  cands.forEach((_, t) => {
    const sums = combineBlocks(metas.map((m) => m.meta.blocks[t]), rowStarts, n);
    const pot = totalOf(sums);
    if (pot < bestPot) {
      bestPot = pot;
      best = t;
      bestSums = sums;
    }
  });
  state.chosen.push(cands[best].row);
  state.bestPrev = best;
  state.pot = bestPot;
  await countHistory(deps.runs, run, 'rounds');
  const round = loop.round + 1;
  if (round < job.k) {
    const rs = RandomState.fromState(state.rng);
    const rowsOf = (b: number) => blockValues(metas.map((m) => m.meta.blocks[best]), rowStarts, rows, n, b, (q, from, to) =>
      readSections(deps.runs, trialKey(q), [`d${best}`], { [`d${best}`]: [from, to] }).then((r) => r.sections[`d${best}`] as Float64Array),
    );
    const picked: number[] = [];
    for (let t = 0; t < trialsFor(job.k); t++) picked.push(await searchBlocked(bestSums!, rs.randomSample() * bestPot, n, rowsOf));
    state.rng = rs.getState();
    const next: Loop = { ...loop, next: 'trial', round };
    await writeCandidates(deps.runs, run.version, next, await candidatesOf(deps.runs, run, picked, job.features));
    await saveJob(deps.runs, run.version, loop.job, state);
    await setStatus(deps, run.version, { phase: 'seeding', job: loop.job, restart: loop.restart, round, k: job.k });
    return next;
  }
  // seeding done: the chosen rows are the centres of iteration 0
  state.starts.push(state.chosen.slice());
  state.iterations = 0;
  const centres = centresFromRows(await candidatesOf(deps.runs, run, state.chosen, job.features), run.index!.d, job.k);
  await writeCentres(deps.runs, run.version, loop, 0, centres.ct, centres.cnorm, run.index!.d, job.k);
  await saveJob(deps.runs, run.version, loop.job, state);
  await setStatus(deps, run.version, { phase: 'clustering', job: loop.job, restart: loop.restart, iteration: 0, maxIter: job.maxIter });
  return { ...loop, next: 'assign', round, iteration: 0, final: false, moved: 0 };
}

/** The raw values of block b (rows in order), from the partitions that hold them: a ranged read where a
 * partition holds the block whole, the values it handed over where the block is shared. */
async function blockValues(
  parts: readonly BlockPart[],
  rowStarts: readonly number[],
  rows: readonly number[],
  n: number,
  b: number,
  read: (q: number, from: number, to: number) => Promise<Float64Array>,
): Promise<number[]> {
  const g0 = b * BLOCK_SIZE;
  const g1 = Math.min(n, g0 + BLOCK_SIZE);
  const out: number[] = [];
  for (let q = 0; q < parts.length; q++) {
    const s = rowStarts[q];
    const e = s + rows[q];
    if (e <= g0 || s >= g1) continue;
    const p = parts[q];
    if (b >= p.first && b < p.first + p.sums.length) {
      out.push(...(await read(q, g0 - s, g1 - s)));
      continue;
    }
    for (let g = Math.max(g0, s); g < Math.min(g1, e); g++) {
      const fromHead = g - s;
      const fromTail = g - (e - p.tail.length);
      out.push(fromHead < p.head.length ? p.head[fromHead] : p.tail[fromTail]);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ Lloyd

interface CentreNorms {
  cnorm: number[];
}

export async function writeCentres(runs: RunStore, v: string, loop: Loop, t: number, ct: Float64Array, cnorm: Float64Array, d: number, k: number): Promise<void> {
  const kp = paddedK(k);
  await Promise.all(
    Array.from({ length: RANGES }, (_, r) => {
      const { j0, j1 } = columnRange(r, d);
      return putContainer(runs, runKeys.centres(v, loop.job, loop.restart, t, r), {}, { ct: ct.slice(j0 * kp, j1 * kp) });
    }),
  );
  await putJson(runs, runKeys.centreNorms(v, loop.job, loop.restart, t), { cnorm: Array.from(cnorm) } satisfies CentreNorms);
}

async function readCentres(runs: RunStore, v: string, loop: Loop, t: number, d: number, k: number): Promise<{ ct: Float64Array; cnorm: Float64Array }> {
  const kp = paddedK(k);
  const ct = new Float64Array(d * kp);
  await Promise.all(
    Array.from({ length: RANGES }, async (_, r) => {
      const { j0 } = columnRange(r, d);
      ct.set((await getContainer(runs, runKeys.centres(v, loop.job, loop.restart, t, r))).f64('ct'), j0 * kp);
    }),
  );
  const { cnorm } = await getJson<CentreNorms>(runs, runKeys.centreNorms(v, loop.job, loop.restart, t));
  return { ct, cnorm: Float64Array.from(cnorm) };
}

interface AssignMeta {
  counts: number[];
  changed: number;
  blocks: BlockPart[];
  farthest: Array<{ row: number; dist: number; label: number }>;
}

/** Assign (worker): one Lloyd assignment of this partition's rows, with the engine's kernels. */
export async function assignStep(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const loop = event.loop!;
  const q = event.item;
  const run = await loadRun(deps.runs, event.version);
  const job = jobOf(run, loop);
  const d = run.index!.d;
  const t = loop.iteration;
  const rowStart = run.shards!.rowStarts[q];
  const previous = async () =>
    t === 0 ? null : (await readSections(deps.runs, runKeys.assign(run.version, loop.job, loop.restart, t - 1, q), ['labels'])).sections.labels as Int32Array;
  const [{ x }, centres, prev, moves] = await Promise.all([
    loadShard(deps.runs, run.version, q, d, job.features),
    readCentres(deps.runs, run.version, loop, t, d, job.k),
    previous(),
    loop.moved > 0 ? relocationsOf(deps.runs, run.version, loop, t - 1) : Promise.resolve([]),
  ]);
  // the seeds' assignment starts every row at 0: ties then go to the lowest index, as the engine's
  const labels = new Int32Array(x.nRows);
  if (prev) labels.set(prev);
  for (const m of moves) if (m.row >= rowStart && m.row < rowStart + x.nRows) labels[m.row - rowStart] = m.to;
  const { changed, d2 } = await assignRows(x, { k: job.k, ct: centres.ct, cnorm: centres.cnorm }, labels, { threads: run.options.threads });
  const meta: AssignMeta = { counts: [], changed, blocks: [blockPart(d2, rowStart, run.shards!.n)], farthest: [] };
  const sections: Record<string, SectionArray> = { labels };
  if (!loop.final) {
    const sums = partialSums(x, labels, job.k);
    meta.counts = sums.counts;
    meta.farthest = farthestRows(d2, labels, rowStart, 2 * job.k);
    sums.ranges.forEach((s, r) => Object.assign(sections, { [`c${r}`]: s.cols, [`p${r}`]: s.ptr, [`k${r}`]: s.clusters, [`s${r}`]: s.sums }));
  }
  await putContainer(deps.runs, runKeys.assign(run.version, loop.job, loop.restart, t, q), meta, sections);
}

async function relocationsOf(runs: RunStore, v: string, loop: Loop, t: number): Promise<Array<{ row: number; from: number; to: number }>> {
  return getJson(runs, runKeys.relocations(v, loop.job, loop.restart, t));
}

async function assignMetas(runs: RunStore, run: RunState, loop: Loop, t: number): Promise<AssignMeta[]> {
  return Promise.all(run.shards!.rows.map((_, q) => readHeader<AssignMeta>(runs, runKeys.assign(run.version, loop.job, loop.restart, t, q)).then((h) => h.meta)));
}

/** The pass's global counts and relocations (every reducer computes the same ones). */
function relocationPlan(metas: readonly AssignMeta[], k: number) {
  const counts = new Array<number>(k).fill(0);
  for (const m of metas) m.counts.forEach((c, i) => (counts[i] += c));
  return planRelocation(counts, metas.flatMap((m) => m.farthest));
}

/** UpdateCentres (worker, one per column range): the new centres of these columns. */
export async function updateCentres(event: WorkerEvent, deps: DistributedDeps): Promise<void> {
  const loop = event.loop!;
  const r = event.item;
  const run = await loadRun(deps.runs, event.version);
  const job = jobOf(run, loop);
  const d = run.index!.d;
  const t = loop.iteration;
  const metas = await assignMetas(deps.runs, run, loop, t);
  const { moves, counts } = relocationPlan(metas, job.k);
  const moved = new Map<number, MovedRow>();
  if (moves.length) for (const c of await candidatesOf(deps.runs, run, moves.map((m) => m.row), job.features)) moved.set(c.row, c);
  const parts: RangeSums[] = await Promise.all(
    run.shards!.rows.map(async (_, q) => {
      const { sections } = await readSections(deps.runs, runKeys.assign(run.version, loop.job, loop.restart, t, q), [`c${r}`, `p${r}`, `k${r}`, `s${r}`]);
      return { cols: sections[`c${r}`] as Int32Array, ptr: sections[`p${r}`] as Int32Array, clusters: sections[`k${r}`] as Uint8Array, sums: sections[`s${r}`] as Float64Array };
    }),
  );
  const old = (await getContainer(deps.runs, runKeys.centres(run.version, loop.job, loop.restart, t, r))).f64('ct');
  const res = updateRange(columnRange(r, d), job.k, parts, counts, moves, moved, old);
  await putContainer(deps.runs, runKeys.centres(run.version, loop.job, loop.restart, t + 1, r), {}, { ct: res.ct, shift2: res.shift2, norm: res.norm });
}

/** Converge: the engine's stopping rules on the pass's changes and the centres' total shift. */
export async function converge(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const loop = event.loop!;
  const run = await loadRun(deps.runs, event.version);
  const job = jobOf(run, loop);
  const t = loop.iteration;
  const n = run.shards!.n;
  const state = await loadJob(deps.runs, run.version, loop.job);
  const metas = await assignMetas(deps.runs, run, loop, t);
  const { moves } = relocationPlan(metas, job.k);
  if (moves.length) await putJson(deps.runs, runKeys.relocations(run.version, loop.job, loop.restart, t), moves);
  const parts = await Promise.all(
    Array.from({ length: RANGES }, async (_, r) => {
      const { sections } = await readSections(deps.runs, runKeys.centres(run.version, loop.job, loop.restart, t + 1, r), ['shift2', 'norm']);
      return { shift2: sections.shift2 as Float64Array, norm: sections.norm as Float64Array };
    }),
  );
  const { cnorm, shiftTotal } = combineRanges(parts, job.k);
  await putJson(deps.runs, runKeys.centreNorms(run.version, loop.job, loop.restart, t + 1), { cnorm: Array.from(cnorm) } satisfies CentreNorms);
  const changed = t === 0 ? n : metas.reduce((s, m) => s + m.changed, 0);
  const iterations = t + 1;
  const inertia = totalOf(combineBlocks(metas.map((m) => m.blocks[0]), run.shards!.rowStarts, n));
  const decision = nextStep(changed + moves.length, shiftTotal, run.model!.tolAbs[job.features], iterations, job.maxIter);
  state.iterations = iterations;
  await countHistory(deps.runs, run, 'passes');
  await saveJob(deps.runs, run.version, loop.job, state);
  await setStatus(deps, run.version, { phase: 'clustering', job: loop.job, restart: loop.restart, iteration: iterations, maxIter: job.maxIter, inertia });
  if (decision === 'done') return { ...loop, next: 'finish', final: false, moved: 0 };
  return { ...loop, next: 'assign', iteration: t + 1, final: decision === 'final', moved: moves.length };
}

/** FinishRestart: the restart's inertia (its last pass's), the best so far, and what runs next. */
export async function finishRestart(event: CentralEvent, deps: DistributedDeps): Promise<Loop> {
  const loop = event.loop!;
  const run = await loadRun(deps.runs, event.version);
  const job = jobOf(run, loop);
  const state = await loadJob(deps.runs, run.version, loop.job);
  const pass = loop.iteration;
  const metas = await assignMetas(deps.runs, run, loop, pass);
  const inertia = totalOf(combineBlocks(metas.map((m) => m.blocks[0]), run.shards!.rowStarts, run.shards!.n));
  state.inertias.push(inertia);
  if (state.best === null || inertia < state.best.inertia) state.best = { restart: loop.restart, pass, inertia, iterations: state.iterations };
  await saveJob(deps.runs, run.version, loop.job, state);
  run.results ??= [];
  run.results[loop.job] = { ...state.best, inertias: state.inertias.slice() };
  await saveRun(deps.runs, run);
  let next: Loop;
  if (loop.restart + 1 < job.nInit) next = { ...loop, next: 'seed', restart: loop.restart + 1, round: 0, iteration: 0, final: false, moved: 0 };
  else if (loop.job + 1 < run.model!.jobs.length) {
    // the next clustering: seeded here, or (sampled) its centres already fitted, one final pass to run
    const sampled = !!run.model!.jobs[loop.job + 1].sampled;
    next = { ...loop, next: sampled ? 'assign' : 'seed', job: loop.job + 1, restart: 0, round: 0, iteration: 0, final: sampled, moved: 0 };
  }
  else return { ...loop, next: 'post' };
  // the next restart's worst case must fit this execution's history, else it continues as a new execution
  const nextJob = run.model!.jobs[next.job];
  const h = run.history ?? { rounds: 0, passes: 0 };
  const used = HISTORY.fixed + h.rounds * HISTORY.perRound + h.passes * HISTORY.perIteration;
  if (used + nextJob.k * HISTORY.perRound + (nextJob.maxIter + 1) * HISTORY.perIteration > HISTORY.limit) return { ...next, next: 'continue' };
  return next;
}

/** Seeding rounds and Lloyd passes this execution has run (its history budget); reset by ContinueAsNew. */
async function countHistory(runs: RunStore, run: RunState, what: 'rounds' | 'passes'): Promise<void> {
  run.history ??= { rounds: 0, passes: 0 };
  run.history[what]++;
  await saveRun(runs, run);
}

/** The best restart's final labels of clustering j, partition q. */
export async function bestLabels(runs: RunStore, run: RunState, j: number, q: number): Promise<Int32Array> {
  const best = run.results![j];
  const key = runKeys.assign(run.version, j, best.restart, best.pass, q);
  return (await readSections(runs, key, ['labels'])).sections.labels as Int32Array;
}
