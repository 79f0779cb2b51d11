// Parameters of the recommender: the seed algorithm (the faithful reproduction, kept forever) or the
// taste model (spherical K-means ensembles with soft membership), chosen by validation — see
// EVALUATION.md at the repository root for the numbers behind every default here.
import { SEED_PARAMS, TrainingParams } from '../snapshot';
import { InputError } from '../types';

export type Algorithm = 'seed' | 'taste';

export interface TasteParams {
  /** clusters per clustering when not selected by validation */
  k: number;
  /** softmax temperature of the weights over a user's nearest clusters (cosine / temperature) */
  temperature: number;
  /** half-life, in movies, of the recency weighting of a user's row when choosing the user's clusters
   * (needs timestamps; 0 = no recency weighting) */
  halfLife: number;
  /** candidates tried by the inner validation (k: only those with ≥ 6 users per cluster on average) */
  kCandidates: number[];
  temperatureCandidates: number[];
  halfLifeCandidates: number[];
  /** choose k and temperature on a hold-out carved from the training data */
  select: boolean;
  /** how selection walks the candidates: one setting at a time from the defaults ('coordinate'),
   * or every combination ('grid'; 5 × 4 × 4 = 80 scored settings, ~6× the work) */
  search: 'coordinate' | 'grid';
  /** coordinate search: at most this many rounds over (k, temperature, half-life); it stops earlier
   * when a round changes nothing */
  searchRounds: number;
  /** K-means restarts per clustering while selecting (at most nInit; the final model uses nInit) */
  selectNInit: number;
  /** independent clusterings (seeds seed, seed+1, …) whose clusters a user mixes */
  ensemble: number;
  /** nearest clusters per clustering in a user's mix */
  neighbours: number;
  /** per-cluster ranked list kept for serving (top movies by count) */
  listLength: number;
  /** above this many interactions, selection is skipped and the defaults are used (cost) */
  selectMaxNnz: number;
}

export interface RecommenderParams extends TrainingParams {
  algorithm: Algorithm;
  taste: TasteParams;
}

export const TASTE_DEFAULTS: TasteParams = {
  k: 80,
  temperature: 0.1,
  halfLife: 3,
  kCandidates: [20, 30, 50, 80, 120],
  temperatureCandidates: [0.05, 0.1, 0.2, 0.4],
  halfLifeCandidates: [2, 5, 20, 0],
  select: true,
  search: 'coordinate',
  searchRounds: 1,
  selectNInit: 1,
  ensemble: 2,
  neighbours: 5,
  listLength: 500,
  selectMaxNnz: 5_000_000,
};

/** K-means settings of the taste model (k comes from TasteParams). */
export const TASTE_KMEANS: Omit<TrainingParams, 'k' | 'engine'> = {
  nInit: 2,
  maxIter: 300,
  tol: 1e-4,
  randomState: 0,
  minClusterSize: 6,
};

export type RecommenderOverrides = Partial<Omit<RecommenderParams, 'taste'>> & { taste?: Partial<TasteParams> };

/** Full parameters for an algorithm: seed → SEED_PARAMS; taste → TASTE_KMEANS + TASTE_DEFAULTS; then overrides. */
export function resolveParams(overrides: RecommenderOverrides = {}): RecommenderParams {
  const algorithm: Algorithm = overrides.algorithm ?? 'taste';
  const base: TrainingParams = algorithm === 'seed' ? SEED_PARAMS : { ...TASTE_KMEANS, k: TASTE_DEFAULTS.k, engine: 'default' };
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const taste: TasteParams = {
    ...TASTE_DEFAULTS,
    ...Object.fromEntries(Object.entries(overrides.taste ?? {}).filter(([, v]) => v !== undefined)),
  };
  // an explicit k for the taste model means "use this k", not "select one"
  if (algorithm === 'taste' && overrides.k !== undefined && overrides.taste?.select === undefined) {
    taste.k = overrides.k;
    taste.select = false;
  }
  const p: RecommenderParams = { ...base, ...defined, algorithm, taste };
  if (algorithm === 'taste') p.k = taste.k;
  validateRecommenderParams(p);
  return p;
}

export function validateRecommenderParams(p: RecommenderParams): void {
  const bad = (field: string, rule: string, value: unknown): never => {
    throw new InputError('bad_param', `${field} must be ${rule}, got ${JSON.stringify(value)}.`);
  };
  if (p.algorithm !== 'seed' && p.algorithm !== 'taste') bad('algorithm', '"seed" or "taste"', p.algorithm);
  const posInt = (field: string, v: unknown) => {
    if (!Number.isInteger(v) || (v as number) < 1) bad(field, 'a positive integer', v);
  };
  posInt('k', p.k);
  posInt('nInit', p.nInit);
  posInt('maxIter', p.maxIter);
  // numpy's RandomState seeds (the K-means engine draws scikit-learn's stream): 0 … 2³² − 1
  if (!Number.isInteger(p.randomState) || p.randomState < 0 || p.randomState > 0xffffffff) bad('randomState', 'an integer between 0 and 4294967295', p.randomState);
  if (!Number.isInteger(p.minClusterSize) || p.minClusterSize < 0) bad('minClusterSize', 'a non-negative integer', p.minClusterSize);
  if (!(typeof p.tol === 'number' && Number.isFinite(p.tol) && p.tol >= 0)) bad('tol', 'a finite number ≥ 0', p.tol);
  if (p.engine !== 'default' && p.engine !== 'ml-kmeans') bad('engine', '"default" or "ml-kmeans"', p.engine);
  if (p.algorithm !== 'taste') return;
  const t = p.taste;
  posInt('taste.k', t.k);
  posInt('taste.ensemble', t.ensemble);
  posInt('taste.neighbours', t.neighbours);
  posInt('taste.listLength', t.listLength);
  if (t.search !== 'coordinate' && t.search !== 'grid') bad('taste.search', '"coordinate" or "grid"', t.search);
  posInt('taste.searchRounds', t.searchRounds);
  posInt('taste.selectNInit', t.selectNInit);
  if (!(t.temperature > 0 && Number.isFinite(t.temperature))) bad('taste.temperature', 'a positive number', t.temperature);
  if (!Array.isArray(t.kCandidates) || t.kCandidates.length === 0) bad('taste.kCandidates', 'a non-empty list', t.kCandidates);
  for (const k of t.kCandidates) posInt('each taste.kCandidates entry', k);
  if (!Array.isArray(t.temperatureCandidates) || t.temperatureCandidates.length === 0) {
    bad('taste.temperatureCandidates', 'a non-empty list', t.temperatureCandidates);
  }
  for (const x of t.temperatureCandidates) if (!(x > 0 && Number.isFinite(x))) bad('each taste.temperatureCandidates entry', 'a positive number', x);
  if (!(t.halfLife >= 0 && Number.isFinite(t.halfLife))) bad('taste.halfLife', 'a number ≥ 0 (0 = off)', t.halfLife);
  if (!Array.isArray(t.halfLifeCandidates) || t.halfLifeCandidates.length === 0) {
    bad('taste.halfLifeCandidates', 'a non-empty list', t.halfLifeCandidates);
  }
  for (const x of t.halfLifeCandidates) if (!(x >= 0 && Number.isFinite(x))) bad('each taste.halfLifeCandidates entry', 'a number ≥ 0', x);
}
