// Choosing the default model's settings — recency half-life h, clusters per clustering k, mix temperature
// T, EASE ridge λ_rel and count weight β — on a hold-out carved from the training data itself (never from
// a test set). Every tried setting is scored by NDCG@10 on that hold-out; the best wins (ties: the one
// tried first).
//
// The search is a coordinate walk from the defaults: one round tries every h, then every k at the best h,
// then every T, every λ_rel, every β, each with the others at the best so far; it repeats (at most
// `searchRounds`, default 2) while a round changes something. Scoring reuses everything a setting shares
// with the ones before it: the clusterings and their lists per k, the local matrices per (k, λ), the
// validation users' nearest clusters per (k, h) and their personal rows per (k, λ, h); T and β only
// re-rank (personal.ts rankMix, the same function serving ranks with).
import { scoreRecommendations } from '../evaluate/score';
import { EvalSplit } from '../evaluate/split';
import { CsrMatrix } from '../types';
import { ClusteringOptions, tasteClusterings } from './clusterings';
import { entryAges, recencyRowsFromAges, takeRows } from './features';
import { gramSample, ListCols, publishedLists, unionOf } from './cl-ease';
import { Holdout, holdoutSplit } from './holdout';
import { localB, unionGram, UnionGram } from './local-ease';
import { RecommenderParams, TASTE_DEFAULTS } from './params';
import { LocalRows } from './dots';
import { MixList, rankMix, recencyWeights } from './personal';
import { mixFromNearest, Nearest, nearestClusters, TasteClustering } from './taste';

export type Axis = 'halfLife' | 'k' | 'temperature' | 'lambdaRel' | 'beta';
export type Setting = { [A in Axis]: number };
export type SearchSpace = { [A in Axis]: readonly number[] };

export interface SelectionRow extends Setting {
  ndcg: number;
}

/** The order each round walks the axes: recency moves NDCG@10 most (EVALUATION.md), so it goes first. */
export const COORDINATE_ORDER: readonly Axis[] = ['halfLife', 'k', 'temperature', 'lambdaRel', 'beta'];

export interface SelectTasteOptions extends ClusteringOptions {
  /** matrix-aligned timestamps (cellTimes) → the validation hold-out is temporal, else random */
  times?: Float64Array;
  /** instead of times, on the large-data path: each entry's age in its row (features.ts entryAges) */
  ages?: Int32Array;
  /** validation samples at most this many users (default 2000) */
  maxValidationUsers?: number;
  /** the publish check's bar on the large-data path, which checks inside training (see check.ts) */
  minRatio?: number;
}

export interface Selection extends Setting {
  /** every scored setting, in the order tried */
  rows: SelectionRow[];
  mode: string;
  users: number;
}

/** k values worth trying on `nUsers` users: ≥ 6 users per cluster on average. */
export function feasibleK(candidates: readonly number[], nUsers: number): number[] {
  const ok = candidates.filter((k) => k * 6 <= nUsers);
  return ok.length ? ok : [Math.max(1, Math.min(...candidates, Math.floor(nUsers / 6)))];
}

/** The candidate closest to `k` (ties: the smaller). */
export function nearestK(ks: readonly number[], k: number): number {
  let best = ks[0];
  for (const c of ks) if (Math.abs(c - k) < Math.abs(best - k) || (Math.abs(c - k) === Math.abs(best - k) && c < best)) best = c;
  return best;
}

const keyOf = (s: Setting) => COORDINATE_ORDER.map((a) => s[a]).join('|');

/**
 * Walk the settings from `start` and return every scored one (in the order tried, each scored once) and the
 * best (highest score; ties: tried first). One round walks the axes in COORDINATE_ORDER, trying each
 * candidate value of the axis with the others at the best setting so far; rounds repeat (at most `rounds`)
 * while a round improves the best.
 */
export async function searchSettings(
  space: SearchSpace,
  start: Setting,
  rounds: number,
  score: (s: Setting) => Promise<number>,
): Promise<{ best: SelectionRow; rows: SelectionRow[] }> {
  const rows: SelectionRow[] = [];
  const scored = new Set<string>();
  let best: SelectionRow | null = null;
  const trySetting = async (s: Setting): Promise<void> => {
    const key = keyOf(s);
    if (scored.has(key)) return;
    scored.add(key);
    const row = { ...s, ndcg: await score(s) };
    rows.push(row);
    if (!best || row.ndcg > best.ndcg) best = row;
  };
  await trySetting(start);
  for (let round = 0; round < rounds; round++) {
    const before: SelectionRow = best!;
    for (const axis of COORDINATE_ORDER) {
      for (const v of space[axis]) {
        const b: SelectionRow = best!;
        await trySetting({ halfLife: b.halfLife, k: b.k, temperature: b.temperature, lambdaRel: b.lambdaRel, beta: b.beta, [axis]: v });
      }
    }
    if (best === before) break;
  }
  return { best: best!, rows };
}

/** One k's clusterings as validation needs them: their published lists, the co-occurrence table of the
 * lists' movies, and each clustering's `m` nearest clusters (cosine desc, then id asc) of users' rows
 * weighted by recency with a half-life. */
export interface ClusteringSet {
  lists: ListCols[];
  gram: UnionGram;
  nearest: (users: { x: CsrMatrix; ages?: Int32Array }, halfLife: number, m: number) => Nearest[] | Promise<Nearest[]>;
}

/** A ClusteringSet of clusterings trained on `x` (their centre directions are the members' mean). */
export function clusteringSet(x: CsrMatrix, parts: readonly TasteClustering[], listLength: number, gramRows: Int32Array | null): ClusteringSet {
  const lists = publishedLists(x, parts, listLength);
  return {
    lists,
    gram: unionGram(x, unionOf(lists), gramRows),
    nearest: (users, halfLife, m) => {
      const member = recencyRowsFromAges(users.x, users.ages, halfLife);
      return parts.map((q) => nearestClusters(q, member, m));
    },
  };
}

/** The users a setting is scored on: their TRAIN rows (the held-out movies removed), the entry ages of
 * those rows (absent without timestamps), and the split that holds their held-out movies. */
export interface ValidationUsers {
  x: CsrMatrix;
  ages?: Int32Array;
  split: EvalSplit;
}

/**
 * Scores settings on one set of validation users, computing whatever a setting shares with earlier ones
 * once. `clusteringsFor(k)` supplies the clusterings (trained here on the hold-out's TRAIN, or fixed by the
 * large-data path).
 */
export class SettingScorer {
  private readonly sets = new Map<number, ClusteringSet>();
  private readonly locals = new Map<string, { bs: Map<number, Float32Array>; rows: LocalRows }>();
  private readonly nears = new Map<string, Nearest[]>();
  /** per (k, λ, h), the latest few: per validation user, cluster id → its personal row */
  private readonly rowSets = new Map<string, Array<Map<number, Float64Array | null>>>();
  /** the validation user being ranked: its movies' columns are marked */
  private readonly mark: Uint8Array;
  private readonly seen: { has(c: number): boolean };

  constructor(
    private readonly users: ValidationUsers,
    private readonly p: RecommenderParams,
    private readonly clusteringsFor: (k: number) => Promise<ClusteringSet>,
    private readonly onProgress?: (step: string) => void,
  ) {
    const mark = new Uint8Array(users.x.nCols);
    this.mark = mark;
    this.seen = { has: (c: number) => mark[c] === 1 };
  }

  private async set(k: number): Promise<ClusteringSet> {
    let s = this.sets.get(k);
    if (!s) {
      s = await this.clusteringsFor(k);
      this.sets.set(k, s);
    }
    return s;
  }

  /** each cluster's local matrix for (k, λ), and the same on the SIMD kernel's layout */
  private localsFor(k: number, set: ClusteringSet, lambdaRel: number): { bs: Map<number, Float32Array>; rows: LocalRows } {
    const key = `${k}|${lambdaRel}`;
    let m = this.locals.get(key);
    if (!m) {
      const bs = new Map(set.lists.map((l) => [l.id, localB(set.gram, l.cols, lambdaRel)]));
      m = { bs, rows: new LocalRows(set.lists.map((l) => ({ id: l.id, b: bs.get(l.id)!, L: l.cols.length }))) };
      // one k at a time: the coordinate walk never returns to an earlier k's matrices often enough to keep them
      for (const old of this.locals.keys()) if (!old.startsWith(`${k}|`)) this.locals.delete(old);
      this.locals.set(key, m);
    }
    return m;
  }

  private async nearestFor(k: number, set: ClusteringSet, halfLife: number): Promise<Nearest[]> {
    const key = `${k}|${halfLife}`;
    let n = this.nears.get(key);
    if (!n) {
      n = await set.nearest(this.users, halfLife, this.p.taste.neighbours);
      this.nears.set(key, n);
    }
    return n;
  }

  /** The history the personal term weighs for validation user r (columns, oldest first). */
  private history(r: number, halfLife: number): ArrayLike<number> {
    const x = this.users.x;
    const a = x.indptr[r];
    const b = x.indptr[r + 1];
    const ages = this.users.ages;
    if (!(halfLife > 0) || !ages) return x.indices.subarray(a, b);
    const m = Math.min(b - a, this.p.taste.recentMovies);
    const out = new Int32Array(m);
    for (let p = a; p < b; p++) if (ages[p] < m) out[m - 1 - ages[p]] = x.indices[p];
    return out;
  }

  async ndcg(s: Setting): Promise<number> {
    return scoreRecommendations(await this.recommendations(s), this.users.split)['ndcg@10'];
  }

  /** Every validation user's top 10 under setting s (userId → movie ids). */
  async recommendations(s: Setting): Promise<Map<number, number[]>> {
    const { k, halfLife, temperature, lambdaRel, beta } = s;
    const set = await this.set(k);
    this.onProgress?.(`validate k=${k} h=${halfLife} T=${temperature} λ=${lambdaRel} β=${beta}`);
    const { bs: locals, rows: localRows } = this.localsFor(k, set, lambdaRel);
    const nears = await this.nearestFor(k, set, halfLife);
    const listOf = new Map(set.lists.map((l) => [l.id, l]));
    const x = this.users.x;
    const rowsKey = `${k}|${lambdaRel}|${halfLife}`;
    let rowSet = this.rowSets.get(rowsKey);
    if (!rowSet) {
      rowSet = [];
      // ρ by column (NaN: not in the history), the weights recencyWeights gives
      const rho = new Float64Array(x.nCols).fill(NaN);
      for (let r = 0; r < x.nRows; r++) {
        const history = this.history(r, halfLife);
        for (const [c, w] of recencyWeights(history, halfLife)) rho[c] = w;
        const own = new Map<number, Float64Array | null>();
        for (const nb of nears) {
          for (let t = 0; t < nb.m; t++) {
            const id = nb.near[r * nb.m + t];
            own.set(id, localRows.row(id, listOf.get(id)!.cols, rho));
          }
        }
        for (let i = 0; i < history.length; i++) rho[history[i]] = NaN;
        rowSet.push(own);
      }
      // a round returns to the best (λ, h) after trying others: keep the last three
      if (this.rowSets.size >= 3) this.rowSets.delete(this.rowSets.keys().next().value!);
      this.rowSets.set(rowsKey, rowSet);
    }
    const mix = mixFromNearest(nears, x.nRows, temperature);
    const recs = new Map<number, number[]>();
    for (let r = 0; r < x.nRows; r++) {
      const lists: MixList[] = [];
      const rows: Array<Float64Array | null> = [];
      for (let q = mix.ptr[r]; q < mix.ptr[r + 1]; q++) {
        const l = listOf.get(mix.clusters[q])!;
        lists.push({ weight: mix.weights[q], size: l.size, movieIds: l.cols, counts: l.counts, b: locals.get(l.id)! });
        rows.push(rowSet[r].get(l.id)!);
      }
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) this.mark[x.indices[p]] = 1;
      const items = rankMix(lists, rows, beta, this.seen, 10, 0);
      for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) this.mark[x.indices[p]] = 0;
      recs.set(x.rowIds[r], items.map((it) => x.colIds[it.movieId]));
    }
    return recs;
  }
}

/** The defaults the walk starts from (not params' values: a trained version's params carry the selected
 * values, and the publish check, which repeats selection, must walk the same way). */
export function startSetting(space: SearchSpace, withTimes: boolean): Setting {
  return {
    halfLife: withTimes ? TASTE_DEFAULTS.halfLife : 0,
    k: nearestK(space.k, TASTE_DEFAULTS.k),
    temperature: TASTE_DEFAULTS.temperature,
    lambdaRel: TASTE_DEFAULTS.lambdaRel,
    beta: TASTE_DEFAULTS.beta,
  };
}

/** Choose (h, k, T, λ_rel, β) on a hold-out carved from `x`; best NDCG@10 wins (ties: the setting tried
 * first). Half-lives are tried only when timestamps are given. */
export async function selectTaste(x: CsrMatrix, p: RecommenderParams, opts: SelectTasteOptions = {}): Promise<Selection> {
  const h: Holdout = holdoutSplit(x, { times: opts.times, seed: p.randomState, maxTestUsers: opts.maxValidationUsers ?? 2000 });
  const train = h.split.trainMatrix;
  const taken = takeRows(train, h.trainTimes, h.testRows);
  const users: ValidationUsers = { x: taken.x, ages: taken.times ? entryAges(taken.x, taken.times) : undefined, split: h.split };
  const selecting: RecommenderParams = { ...p, nInit: Math.min(p.nInit, p.taste.selectNInit) };
  const gramRows = gramSample(train.nRows, p.taste.gramUsers, p.randomState);
  const clusteringsFor = async (k: number): Promise<ClusteringSet> =>
    clusteringSet(train, (await tasteClusterings(train, selecting, k, opts)).parts, p.taste.listLength, gramRows);
  const scorer = new SettingScorer(users, p, clusteringsFor, (step) => opts.onProgress?.({ step }));
  const t = p.taste;
  const space: SearchSpace = {
    halfLife: h.trainTimes ? t.halfLifeCandidates : [0],
    k: feasibleK(t.kCandidates, x.nRows),
    temperature: t.temperatureCandidates,
    lambdaRel: t.lambdaCandidates,
    beta: t.betaCandidates,
  };
  const { best, rows } = await searchSettings(space, startSetting(space, !!h.trainTimes), t.searchRounds, (s) => scorer.ndcg(s));
  const { ndcg: _, ...setting } = best;
  return { ...setting, rows, mode: h.mode, users: h.testRows.length };
}
