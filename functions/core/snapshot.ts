// The versioned JSON document of a trained model, which the CLI writes and reads: parameters, data report,
// training summary and the model itself, validated structurally on the way in.
import type { FixReport } from './cluster-lists';
import type { ClusterList, ClusterModel, UserMix } from './model';
import type { RankedList } from './ranked';
import { DataReport, InputError } from './types';

export const SNAPSHOT_SCHEMA_VERSION = 1;

export type EngineName = 'default' | 'ml-kmeans';

export interface TrainingParams {
  /** absent means 'seed' (the faithful reproduction); 'taste' is functions/core/recommender's model */
  algorithm?: 'seed' | 'taste';
  k: number;
  nInit: number;
  maxIter: number;
  tol: number;
  /** numpy RandomState seed of K-means (scikit-learn's random_state) */
  randomState: number;
  minClusterSize: number;
  engine: EngineName;
}

/** The seed project's parameters. */
export const SEED_PARAMS: TrainingParams = {
  k: 15,
  nInit: 10,
  maxIter: 300,
  tol: 1e-4,
  randomState: 0,
  minClusterSize: 6,
  engine: 'default',
};

export interface TrainingSummary {
  inertia: number;
  iterations: number;
  inertias: number[];
  seconds: Record<string, number>;
  fix: FixReport;
  /** which clustering engine produced the labels */
  engine?: string;
  /** adjustments made to the requested parameters, in plain words */
  notes?: string[];
  /** taste model: the settings it was trained with and how they were chosen (JSON) */
  taste?: Record<string, unknown>;
  /** held-out metrics of this version on its own data, and the verdict against most-popular (JSON) */
  holdout?: Record<string, unknown>;
}

/** A cluster as stored: its local EASE matrix as base64 of little-endian float32 (the counts of its
 * movies are the ranked list's, so they are not stored twice). */
export type SnapshotCluster = Omit<ClusterList, 'local'> & { local?: { movieIds: number[]; b: string } };

export interface ModelSnapshot {
  schemaVersion: typeof SNAPSHOT_SCHEMA_VERSION;
  kind: 'movierec-model';
  createdAt: string;
  params: TrainingParams;
  data: DataReport;
  training: TrainingSummary;
  popular: RankedList;
  clusters: SnapshotCluster[];
  users: {
    ids: number[];
    cluster: number[];
    moviePtr: number[];
    movies: number[];
    mix?: UserMix;
    /** CL-EASE with recency: each user's newest movies (and favourites since), oldest first */
    recent?: { ptr: number[]; movies: number[] };
  };
  /** CL-EASE model only (absent: the seed model or the older taste model, served by their own rules) */
  scoring?: { beta: number; halfLife: number };
}

/** float32 values as their little-endian bytes (the stored form), as base64 of those, and back. */
export function float32ToBytes(b: Float32Array): Uint8Array {
  const bytes = new Uint8Array(b.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < b.length; i++) view.setFloat32(i * 4, b[i], true);
  return bytes;
}

export function float32ToBase64(b: Float32Array): string {
  return Buffer.from(float32ToBytes(b)).toString('base64');
}

export function float32FromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new RangeError(`float32 data of ${bytes.length} bytes is not a whole number of values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function toSnapshot(
  model: ClusterModel,
  meta: { params: TrainingParams; data: DataReport; training: TrainingSummary; createdAt?: string },
): ModelSnapshot {
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    kind: 'movierec-model',
    createdAt: meta.createdAt ?? new Date().toISOString(),
    params: meta.params,
    data: meta.data,
    training: meta.training,
    popular: model.popular,
    // clusters without a local matrix stay the model's own objects (as before this field existed)
    clusters: model.clusters.map((c): SnapshotCluster => {
      if (!c.local) return c as SnapshotCluster;
      const { local, ...rest } = c;
      return { ...rest, local: { movieIds: local.movieIds, b: float32ToBase64(local.b) } };
    }),
    users: {
      ids: model.userIds,
      cluster: model.userCluster,
      moviePtr: model.userMoviePtr,
      movies: model.userMovies,
      ...(model.mix ? { mix: model.mix } : {}),
      ...(model.recent ? { recent: model.recent } : {}),
    },
    ...(model.scoring ? { scoring: model.scoring } : {}),
  };
}

/** Parse and validate a snapshot document (structure and internal consistency). */
export function fromSnapshot(doc: unknown, source = 'model'): { model: ClusterModel; snapshot: ModelSnapshot } {
  const fail = (why: string): never => {
    throw new InputError('bad_model', `${source} is not a valid movierec model: ${why}.`);
  };
  if (!doc || typeof doc !== 'object') fail('not a JSON object');
  const s = doc as ModelSnapshot;
  if (s.kind !== 'movierec-model') fail('missing kind "movierec-model"');
  if (s.schemaVersion !== SNAPSHOT_SCHEMA_VERSION) {
    fail(`schema version ${s.schemaVersion} is not supported (expected ${SNAPSHOT_SCHEMA_VERSION}); retrain it`);
  }
  const u = s.users;
  if (!u || !Array.isArray(u.ids) || !Array.isArray(u.cluster) || !Array.isArray(u.moviePtr) || !Array.isArray(u.movies)) {
    fail('users section is incomplete');
  }
  if (u.cluster.length !== u.ids.length || u.moviePtr.length !== u.ids.length + 1) fail('users arrays disagree in length');
  if (u.moviePtr[u.ids.length] !== u.movies.length) fail('users.moviePtr does not end at users.movies.length');
  for (let i = 1; i < u.ids.length; i++) if (!(u.ids[i] > u.ids[i - 1])) fail('user ids are not strictly ascending');
  if (!Array.isArray(s.clusters) || s.clusters.length === 0) fail('no clusters');
  const ids = new Set(s.clusters.map((c) => c.id));
  for (const c of u.cluster) if (!ids.has(c)) fail(`a user is assigned to unknown cluster ${c}`);
  if (u.mix !== undefined) {
    const x = u.mix;
    if (!x || !Array.isArray(x.ptr) || !Array.isArray(x.clusters) || !Array.isArray(x.weights)) fail('users.mix is incomplete');
    if (x.ptr.length !== u.ids.length + 1 || x.ptr[0] !== 0 || x.ptr[u.ids.length] !== x.clusters.length) {
      fail('users.mix.ptr does not match the users');
    }
    if (x.weights.length !== x.clusters.length) fail('users.mix arrays disagree in length');
    for (const c of x.clusters) if (!ids.has(c)) fail(`users.mix refers to unknown cluster ${c}`);
  }
  if (u.recent !== undefined) {
    const r = u.recent;
    if (!r || !Array.isArray(r.ptr) || !Array.isArray(r.movies) || r.ptr.length !== u.ids.length + 1 || r.ptr[u.ids.length] !== r.movies.length) {
      fail('users.recent does not match the users');
    }
  }
  if (s.scoring !== undefined) {
    const sc = s.scoring;
    if (!sc || !(Number.isFinite(sc.beta) && sc.beta >= 0) || !(Number.isFinite(sc.halfLife) && sc.halfLife >= 0)) fail('scoring needs a beta and a halfLife ≥ 0');
    if (sc.halfLife > 0 && u.recent === undefined) fail('a model with recency (scoring.halfLife > 0) needs users.recent');
    if (!u.mix) fail('a model with scoring needs users.mix');
  }
  const clusters: ClusterList[] = s.clusters.map((c) => {
    if (c.local === undefined) {
      if (s.scoring) fail(`cluster ${c.id} has no local matrix though the model has scoring`);
      return c as ClusterList;
    }
    const local = c.local;
    if (!local || !Array.isArray(local.movieIds) || typeof local.b !== 'string') fail(`cluster ${c.id}'s local matrix is incomplete`);
    const b = float32FromBytes(Buffer.from(local.b, 'base64'));
    const L = local.movieIds.length;
    if (b.length !== L * L) fail(`cluster ${c.id}'s local matrix has ${b.length} values for ${L} movies`);
    return { ...c, local: { movieIds: local.movieIds, counts: alignedCounts(c, local.movieIds), b } };
  });
  const model: ClusterModel = {
    userIds: u.ids,
    userCluster: u.cluster,
    userMoviePtr: u.moviePtr,
    userMovies: u.movies,
    clusters,
    popular: s.popular,
    ...(u.mix ? { mix: u.mix } : {}),
    ...(u.recent ? { recent: u.recent } : {}),
    ...(s.scoring ? { scoring: s.scoring } : {}),
  };
  return { model, snapshot: s };
}

/** The ranked list's count of each of `movieIds` (0 for a movie the list lacks). */
export function alignedCounts(list: RankedList, movieIds: readonly number[]): number[] {
  const at = new Map<number, number>();
  for (let i = 0; i < list.movieIds.length; i++) at.set(list.movieIds[i], list.counts[i]);
  return movieIds.map((m) => at.get(m) ?? 0);
}
