// Choosing the taste model's k, recency half-life and temperature on a hold-out carved from the
// training data itself (never from a test set). Every tried setting is scored by NDCG@10 on that
// hold-out; the best wins (ties: the one tried first).
//
// 'coordinate' (the default) starts from the defaults (TASTE_DEFAULTS' k, temperature, half-life) and
// improves one setting at a time — half-life, then k, then temperature; `searchRounds` (default 1)
// rounds, stopping early when a round changes nothing. That is 12 scored settings instead of the
// grid's 80 for 5 k × 4 half-lives × 4 temperatures, and it chose as well on ml-latest-small.
// 'grid' tries every combination. See EVALUATION.md ("what was tried") for the comparison.
import { scoreRecommendations } from '../evaluate/score';
import { ClusterModel } from '../model';
import { CsrMatrix } from '../types';
import { ClusteringOptions, tasteClusterings } from './clusterings';
import { recencyUnitRows, takeRows } from './features';
import { Holdout, holdoutSplit } from './holdout';
import { RecommenderParams, TASTE_DEFAULTS } from './params';
import { ColList, columnLists, topNForRows } from './batch';
import { assembleTasteModel, mixFromNearest, Nearest, nearestClusters, TasteClustering } from './taste';

export interface SelectionRow {
  k: number;
  halfLife: number;
  temperature: number;
  ndcg: number;
}

export interface SelectTasteOptions extends ClusteringOptions {
  /** matrix-aligned timestamps (cellTimes) → the validation hold-out is temporal, else random */
  times?: Float64Array;
  /** validation samples at most this many users (default 2000) */
  maxValidationUsers?: number;
}

export interface Selection {
  k: number;
  temperature: number;
  halfLife: number;
  /** every scored setting, in the order tried */
  rows: SelectionRow[];
  mode: string;
  users: number;
  search: 'grid' | 'coordinate';
}

/** k values worth trying on `nUsers` users: ≥ 6 users per cluster on average. */
export function feasibleK(candidates: readonly number[], nUsers: number): number[] {
  const ok = candidates.filter((k) => k * 6 <= nUsers);
  return ok.length ? ok : [Math.max(1, Math.min(...candidates, Math.floor(nUsers / 6)))];
}

export interface Setting {
  k: number;
  halfLife: number;
  temperature: number;
}

/** The coordinate search's axes, in the order each round walks them: recency moves NDCG@10 most on
 * both data sets measured (EVALUATION.md), so it is settled before k and temperature. */
export const COORDINATE_ORDER: ReadonlyArray<keyof Setting> = ['halfLife', 'k', 'temperature'];

export interface SearchSpace {
  ks: readonly number[];
  halfLives: readonly number[];
  temperatures: readonly number[];
}

/**
 * Walk the settings and return every scored one (in the order tried, each scored once) and the best
 * (highest score; ties: tried first). 'grid': every (k, half-life, temperature). 'coordinate': from
 * `start`, one round walks the axes in COORDINATE_ORDER, trying each candidate value of the axis
 * with the other two at the best setting so far; rounds repeat (at most `rounds`) while a round
 * improves the best.
 */
export async function searchSettings(
  space: SearchSpace,
  start: Setting,
  search: 'grid' | 'coordinate',
  rounds: number,
  score: (s: Setting) => Promise<number>,
): Promise<{ best: SelectionRow; rows: SelectionRow[] }> {
  const rows: SelectionRow[] = [];
  const scored = new Map<string, SelectionRow>();
  let best: SelectionRow | null = null;
  const trySetting = async (s: Setting): Promise<void> => {
    const key = `${s.k}|${s.halfLife}|${s.temperature}`;
    if (scored.has(key)) return;
    const row = { ...s, ndcg: await score(s) };
    rows.push(row);
    scored.set(key, row);
    if (!best || row.ndcg > best.ndcg) best = row;
  };
  if (search === 'grid') {
    for (const k of space.ks) {
      for (const halfLife of space.halfLives) for (const temperature of space.temperatures) await trySetting({ k, halfLife, temperature });
    }
  } else {
    await trySetting(start);
    for (let round = 0; round < rounds; round++) {
      const before: SelectionRow = best!;
      for (const axis of COORDINATE_ORDER) {
        const values = axis === 'k' ? space.ks : axis === 'halfLife' ? space.halfLives : space.temperatures;
        for (const v of values) await trySetting({ k: best!.k, halfLife: best!.halfLife, temperature: best!.temperature, [axis]: v });
      }
      if (best === before) break;
    }
  }
  return { best: best!, rows };
}

/** The candidate closest to `k` (ties: the smaller). */
export function nearestK(ks: readonly number[], k: number): number {
  let best = ks[0];
  for (const c of ks) if (Math.abs(c - k) < Math.abs(best - k) || (Math.abs(c - k) === Math.abs(best - k) && c < best)) best = c;
  return best;
}

/** Scores settings on one hold-out, computing each clustering (per k) and each placement of the
 * validation users (per k and half-life) once, however many settings share it. */
class SettingScorer {
  private readonly models = new Map<number, { parts: TasteClustering[]; model: ClusterModel; lists: Map<number, ColList> }>();
  private readonly nears = new Map<string, Nearest[]>();
  /** the validation users' recency-weighted unit rows, per half-life */
  private readonly members = new Map<number, CsrMatrix>();
  /** the validation users' TRAIN rows only: their mixes are all validation needs */
  private readonly users: { x: CsrMatrix; times: Float64Array | undefined };
  private readonly all: number[];
  /** params with the selection's K-means restarts */
  private readonly selecting: RecommenderParams;

  constructor(
    private readonly h: Holdout,
    private readonly p: RecommenderParams,
    private readonly opts: SelectTasteOptions,
  ) {
    this.selecting = { ...p, nInit: Math.min(p.nInit, p.taste.selectNInit) };
    this.users = takeRows(h.split.trainMatrix, h.trainTimes, h.testRows);
    this.all = Array.from({ length: h.testRows.length }, (_, i) => i);
  }

  async ndcg({ k, halfLife, temperature }: Setting): Promise<number> {
    const train = this.h.split.trainMatrix;
    let m = this.models.get(k);
    if (!m) {
      const { parts } = await tasteClusterings(train, this.selecting, k, this.opts);
      // the lists do not depend on half-life or temperature: assemble once, swap the mix
      const model = assembleTasteModel(train, parts, { ptr: [], clusters: [], weights: [] }, this.p.taste.listLength);
      m = { parts, model, lists: columnLists(model, this.users.x) };
      this.models.set(k, m);
    }
    const nk = `${k}|${halfLife}`;
    let nears = this.nears.get(nk);
    if (!nears) {
      let member = this.members.get(halfLife);
      if (!member) {
        member = recencyUnitRows(this.users.x, this.users.times, halfLife);
        this.members.set(halfLife, member);
      }
      nears = m.parts.map((q) => nearestClusters(q, member, this.p.taste.neighbours));
      this.nears.set(nk, nears);
    }
    this.opts.onProgress?.({ step: `validate k=${k} halfLife=${halfLife} T=${temperature}` });
    // the mix is aligned with the validation users' rows (this.users.x), which topNForRows reads
    m.model.mix = mixFromNearest(nears, this.users.x.nRows, temperature);
    const recs = topNForRows(m.model, this.users.x, this.all, 10, m.lists);
    return scoreRecommendations(recs, this.h.split)['ndcg@10'];
  }
}

/** Choose (k, half-life, temperature) on a hold-out carved from `x` by params' search; best NDCG@10
 * wins (ties: the setting tried first). Half-lives are tried only when timestamps are given. */
export async function selectTaste(x: CsrMatrix, p: RecommenderParams, opts: SelectTasteOptions = {}): Promise<Selection> {
  const h = holdoutSplit(x, { times: opts.times, seed: p.randomState, maxTestUsers: opts.maxValidationUsers ?? 2000 });
  const scorer = new SettingScorer(h, p, opts);
  const space: SearchSpace = {
    ks: feasibleK(p.taste.kCandidates, x.nRows),
    halfLives: h.trainTimes ? p.taste.halfLifeCandidates : [0],
    temperatures: p.taste.temperatureCandidates,
  };
  // the start is the defaults, not params' k/half-life/temperature: a trained version's params carry
  // the selected values, and the publish check, which repeats selection, must walk the same way
  const start = {
    k: nearestK(space.ks, TASTE_DEFAULTS.k),
    halfLife: h.trainTimes ? TASTE_DEFAULTS.halfLife : 0,
    temperature: TASTE_DEFAULTS.temperature,
  };
  const { best, rows } = await searchSettings(space, start, p.taste.search, p.taste.searchRounds, (s) => scorer.ndcg(s));
  return { k: best.k, temperature: best.temperature, halfLife: best.halfLife, rows, mode: h.mode, users: h.testRows.length, search: p.taste.search };
}
