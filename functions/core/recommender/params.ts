// Parameters of the recommender: the seed algorithm (the faithful reproduction, kept forever) or the
// default model, CL-EASE (spherical K-means ensembles with soft membership, one local EASE matrix per cluster
// list), chosen by validation — see
// EVALUATION.md at the repository root for the numbers behind every default here.
import { SEED_PARAMS, TrainingParams } from '../snapshot';
import { InputError } from '../types';

export type Algorithm = 'seed' | 'taste';

export interface TasteParams {
  /** clusters per clustering when not selected by validation */
  k: number;
  /** softmax temperature of the weights over a user's nearest clusters (cosine / temperature) */
  temperature: number;
  /** half-life, in movies, of the recency weighting of a user's movies, both when choosing the user's
   * clusters and in the personal term (needs timestamps; 0 = no recency weighting) */
  halfLife: number;
  /** weight of the cluster-count term next to the personal (item-item) term */
  beta: number;
  /** EASE ridge of each cluster-local matrix, relative to the mean of its Gram diagonal */
  lambdaRel: number;
  /** candidates tried by the inner validation (k: only those with ≥ 6 users per cluster on average) */
  kCandidates: number[];
  temperatureCandidates: number[];
  halfLifeCandidates: number[];
  betaCandidates: number[];
  lambdaCandidates: number[];
  /** choose the settings on a hold-out carved from the training data */
  select: boolean;
  /** coordinate search: at most this many rounds over (half-life, k, temperature, λ, β); it stops
   * earlier when a round changes nothing */
  searchRounds: number;
  /** K-means restarts per clustering while selecting (at most nInit; the final model uses nInit) */
  selectNInit: number;
  /** independent clusterings (seeds seed, seed+1, …) whose clusters a user mixes */
  ensemble: number;
  /** nearest clusters per clustering in a user's mix */
  neighbours: number;
  /** per-cluster list kept for serving: its top movies by count, and the size of its local matrix */
  listLength: number;
  /** the local matrices' co-occurrences come from at most this many users (a seeded sample beyond) */
  gramUsers: number;
  /** newest movies per user the model stores for the personal term (older ones weigh 0 there) */
  recentMovies: number;
  /** above this many interactions, the large-data path trains (sampled K-means, fixed k; see large.ts) */
  largeDataNnz: number;
  /** large-data path: users K-means is fitted on (then every user is assigned to the nearest centre) */
  kmeansUsers: number;
  /** large-data path: Lloyd iterations at most (per clustering) */
  kmeansMaxIter: number;
  /** large-data path: a Gram user contributes at most its this many newest movies */
  gramRowCap: number;
  /** large-data path: users whose last 20 % validate the settings, and as many others for the publish check */
  validationUsers: number;
  checkUsers: number;
  /** large-data path: rounds of the coordinate search, and the λ candidates it tries (each λ refits every
   * cluster's local matrix) */
  largeSearchRounds: number;
  largeLambdaCandidates: number[];
  /** large-data path: clusterings (each costs a K-means fit and a share of both passes over every user) */
  largeEnsemble: number;
}

export interface RecommenderParams extends TrainingParams {
  algorithm: Algorithm;
  taste: TasteParams;
}

/** Defaults and candidates of the default model; EVALUATION.md has the numbers behind them. */
export const TASTE_DEFAULTS: TasteParams = {
  k: 80,
  temperature: 0.1,
  halfLife: 3,
  beta: 0.1,
  lambdaRel: 0.5,
  kCandidates: [20, 30, 50, 80, 120],
  temperatureCandidates: [0.05, 0.1, 0.2, 0.4],
  halfLifeCandidates: [2, 3, 5, 10, 0],
  betaCandidates: [0, 0.03, 0.1, 0.3, 1, 3, 10],
  lambdaCandidates: [0.25, 0.5, 1, 2, 4],
  select: true,
  searchRounds: 2,
  selectNInit: 1,
  ensemble: 3,
  neighbours: 5,
  listLength: 100,
  gramUsers: 20_000,
  recentMovies: 32,
  largeDataNnz: 5_000_000,
  kmeansUsers: 10_000,
  kmeansMaxIter: 5,
  gramRowCap: 300,
  validationUsers: 2_000,
  checkUsers: 2_000,
  largeSearchRounds: 1,
  largeLambdaCandidates: [0.5, 1, 2],
  largeEnsemble: 2,
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
  for (const f of ['ensemble', 'neighbours', 'listLength', 'searchRounds', 'selectNInit', 'gramUsers', 'recentMovies', 'largeDataNnz', 'kmeansUsers', 'kmeansMaxIter', 'gramRowCap', 'validationUsers', 'checkUsers', 'largeSearchRounds', 'largeEnsemble'] as const) {
    posInt(`taste.${f}`, t[f]);
  }
  if (!(t.temperature > 0 && Number.isFinite(t.temperature))) bad('taste.temperature', 'a positive number', t.temperature);
  if (!(t.halfLife >= 0 && Number.isFinite(t.halfLife))) bad('taste.halfLife', 'a number ≥ 0 (0 = off)', t.halfLife);
  if (!(t.beta >= 0 && Number.isFinite(t.beta))) bad('taste.beta', 'a number ≥ 0', t.beta);
  if (!(t.lambdaRel > 0 && Number.isFinite(t.lambdaRel))) bad('taste.lambdaRel', 'a positive number', t.lambdaRel);
  const list = (field: string, xs: unknown, ok: (x: number) => boolean, rule: string) => {
    if (!Array.isArray(xs) || xs.length === 0) bad(`taste.${field}`, 'a non-empty list', xs);
    for (const x of xs as number[]) if (!ok(x)) bad(`each taste.${field} entry`, rule, x);
  };
  list('kCandidates', t.kCandidates, (x) => Number.isInteger(x) && x >= 1, 'a positive integer');
  list('temperatureCandidates', t.temperatureCandidates, (x) => x > 0 && Number.isFinite(x), 'a positive number');
  list('halfLifeCandidates', t.halfLifeCandidates, (x) => x >= 0 && Number.isFinite(x), 'a number ≥ 0');
  list('betaCandidates', t.betaCandidates, (x) => x >= 0 && Number.isFinite(x), 'a number ≥ 0');
  list('lambdaCandidates', t.lambdaCandidates, (x) => x > 0 && Number.isFinite(x), 'a positive number');
  list('largeLambdaCandidates', t.largeLambdaCandidates, (x) => x > 0 && Number.isFinite(x), 'a positive number');
}
