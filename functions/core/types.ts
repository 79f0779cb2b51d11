// Shared data contracts of the pure domain core. No AWS imports anywhere under functions/core.

/** Error raised for bad input (a malformed file, an invalid parameter). Carries a one-sentence,
 * user-facing message and a stable machine-readable code; the CLI prints the message and exits 1,
 * handlers map it to a 4xx, the training Lambda writes it into the upload's report. */
export class InputError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

export type RatingsFormat = 'csv' | 'u.data' | 'dat';

/** Why a row was rejected. */
export type RejectReason =
  | 'field_count'
  | 'bad_user_id'
  | 'bad_movie_id'
  | 'bad_rating'
  | 'bad_timestamp'
  | 'line_too_long';

export interface RejectExample {
  line: number;
  reason: RejectReason;
  text: string;
}

/** The data-quality report of one ratings file (JSON-serialisable). */
export interface DataReport {
  format: RatingsFormat;
  gzip: boolean;
  bytes: number;
  /** data rows seen (header and blank lines excluded) */
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** first few rejected rows, with 1-based line numbers */
  examples: RejectExample[];
  /** filled in when the matrix is built */
  users?: number;
  movies?: number;
  interactions?: number;
  duplicatesCollapsed?: number;
}

/** Parsed ratings: one entry per accepted row (per distinct (user, movie) pair when the reader collapses
 * duplicates), ids as dense indices in first-appearance order.
 * `userIds[users[i]]` is the raw user id of row i. Timestamps/ratings are NaN where absent. */
export interface Interactions {
  userIds: number[];
  movieIds: number[];
  users: Int32Array;
  movies: Int32Array;
  /** present when requested (evaluation needs them; training does not) */
  timestamps?: Float64Array;
  ratings?: Float32Array;
  length: number;
}

/** Sparse user × movie matrix in CSR form. Rows are users in ascending user id, columns movies in
 * ascending movie id, column indices sorted ascending within a row, no duplicates.
 * `values` null means binary (every stored entry is 1). */
export interface CsrMatrix {
  nRows: number;
  nCols: number;
  indptr: Int32Array; // length nRows + 1
  indices: Int32Array; // length nnz
  values: Float64Array | null;
  /** raw id of row r / column c (ascending) */
  rowIds: Float64Array;
  colIds: Float64Array;
}

export interface KMeansOptions {
  k: number;
  nInit: number;
  maxIter: number;
  /** sklearn semantics: converged when the squared centre shift ≤ tol × mean feature variance */
  tol: number;
  /** numpy RandomState seed (0 … 2³² − 1): scikit-learn's random_state */
  randomState: number;
  /** worker threads (default: available parallelism, capped) */
  threads?: number;
  /** default engine: use the WebAssembly SIMD assignment kernel when the runtime has it (default true;
   * MOVIEREC_KMEANS_SIMD=0 also turns it off). Results are identical either way. */
  simd?: boolean;
  onProgress?: (p: KMeansProgress) => void;
}

export interface KMeansProgress {
  init: number;
  nInit: number;
  iteration: number;
  inertia: number;
}

export interface KMeansResult {
  labels: Int32Array;
  /** k × nCols, row-major */
  centroids: Float64Array;
  inertia: number;
  iterations: number;
  /** inertia of each restart, in order */
  inertias: number[];
  bestInit: number;
  engine: string;
  /** the rows k-means++ chose as starting centres, per restart (default engine only) */
  starts?: number[][];
}

export type KMeansEngine = (x: CsrMatrix, opts: KMeansOptions) => Promise<KMeansResult>;
