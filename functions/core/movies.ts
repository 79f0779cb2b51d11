// MovieLens movies.csv (movieId,title,genres; titles may be quoted and hold commas) → Map by movieId.
// Streams through csv-parse; gzip detected by content; rows with a bad movieId are skipped and
// counted, and the file is refused when too many are bad, when it is empty or lacks the columns.
import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
import { parseIdBytes } from './ratings/fields';
import { openInput } from './ratings/source';
import { InputError } from './types';

export interface Movie {
  title: string;
  /** `(no genres listed)` gives [] */
  genres: string[];
}

export interface ReadMoviesOptions {
  sourceName?: string;
  /** refuse the file when more than this share of rows is bad (default 0.01) */
  maxRejectedShare?: number;
  maxBytes?: number;
}

export async function readMovies(source: NodeJS.ReadableStream | string, opts: ReadMoviesOptions = {}): Promise<Map<number, Movie>> {
  const name = opts.sourceName ?? (typeof source === 'string' ? source : 'movies input');
  const maxRejectedShare = opts.maxRejectedShare ?? 0.01;
  const input = await openInput(source, { name, maxBytes: opts.maxBytes ?? 2 ** 30, textOnly: true });
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, max_record_size: 1 << 20 });
  const feed = Readable.from({ [Symbol.asyncIterator]: () => input.chunks });
  feed.on('error', (err) => parser.destroy(err));
  feed.pipe(parser);

  const movies = new Map<number, Movie>();
  let cols: { id: number; title: number; genres: number } | null = null;
  let rows = 0;
  let bad = 0;
  let firstBad = '';
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (cols === null) {
        const names = record.map((h) => h.trim().toLowerCase());
        cols = { id: names.indexOf('movieid'), title: names.indexOf('title'), genres: names.indexOf('genres') };
        if (cols.id < 0 || cols.title < 0) {
          throw new InputError(
            'missing_columns',
            `${name}: line 1: the header has no movieId and title columns (found: ${record.slice(0, 8).join(', ')}); a movies CSV needs a header like movieId,title,genres.`,
          );
        }
        continue;
      }
      rows++;
      const idText = Buffer.from(record[cols.id] ?? '', 'utf8');
      const id = parseIdBytes(idText, 0, idText.length);
      if (id < 0 || record[cols.title] === undefined) {
        bad++;
        if (!firstBad) firstBad = `line ${info.lines}: "${record.join(',').slice(0, 200)}"`;
        continue;
      }
      if (movies.has(id)) continue; // the first definition wins
      const g = cols.genres >= 0 ? (record[cols.genres] ?? '') : '';
      const genres = g === '' || g === '(no genres listed)' ? [] : g.split('|');
      movies.set(id, { title: record[cols.title], genres });
    }
  } catch (err) {
    input.close();
    if (err instanceof InputError) throw err;
    const e = err as { code?: string; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new InputError('malformed_csv', `${name}: invalid CSV (${e.message}); fix the quoting.`);
    }
    throw err;
  }
  if (cols === null) throw new InputError('empty', `${name}: the file is empty; expected a header like movieId,title,genres.`);
  if (rows === 0) throw new InputError('empty', `${name}: there are no movie rows (only a header).`);
  if (bad > 0 && (bad > maxRejectedShare * rows || movies.size === 0)) {
    throw new InputError(
      'too_many_rejected',
      `${name}: ${bad} of ${rows} rows have no valid movieId, more than the allowed ${+(100 * maxRejectedShare).toFixed(4)}%; the first is ${firstBad}. Fix the file, or raise maxRejectedShare.`,
      { rows, rejected: bad },
    );
  }
  return movies;
}
