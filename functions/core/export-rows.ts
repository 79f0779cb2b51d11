// Every known user's top-n as CSV rows `userId,rank,movieId,score` — the batch export a publish writes to S3 and
// `movierec recommend --all` writes to a file, from the one generator so the two are the same bytes. Lazy: rows
// are produced as the consumer (a gzip stream, a file) asks for them, a chunk of users at a time, so memory does
// not grow with the number of users.
import type { ClusterModel } from './model';
import { recommendFor } from './recommender/serve';

export const EXPORT_HEADER = 'userId,rank,movieId,score';

export interface ExportRowsOptions {
  n: number;
  offset?: number;
  /** users per yielded chunk (default 256) */
  chunkUsers?: number;
  /** called after each chunk with the users and rows produced so far */
  onProgress?: (users: number, rows: number) => void;
}

/** The CSV text in chunks: the header line, then each user's rows (users ascending, rank offset+1…). Every
 * line ends with "\n". */
export function* recommendationRows(model: ClusterModel, opts: ExportRowsOptions): Generator<string> {
  const { n } = opts;
  const offset = opts.offset ?? 0;
  const chunkUsers = opts.chunkUsers ?? 256;
  yield `${EXPORT_HEADER}\n`;
  let rows = 0;
  let parts: string[] = [];
  for (let u = 0; u < model.userIds.length; u++) {
    const userId = model.userIds[u];
    const r = recommendFor(model, userId, { n, offset });
    let rank = offset;
    for (const it of r.items) parts.push(`${userId},${++rank},${it.movieId},${it.score}\n`);
    rows += r.items.length;
    if ((u + 1) % chunkUsers === 0 || u === model.userIds.length - 1) {
      yield parts.join('');
      parts = [];
      opts.onProgress?.(u + 1, rows);
    }
  }
}
