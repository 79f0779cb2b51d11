// Stopgap ratings loader for the evaluation tools and tests: a MovieLens CSV with the header
// userId,movieId,rating,timestamp, parsed strictly into Interactions (dense indices in
// first-appearance order). The product's reader (functions/core/ratings) replaces it where
// available; this one exists so the protocol core does not depend on it.

import { readFileSync } from 'node:fs';
import { InputError, Interactions } from '../types';
import { headerColumns, intField, numField } from './csvText';

export function parseRatingsCsv(text: string, path = '<ratings>'): Interactions {
  const users: number[] = [];
  const movies: number[] = [];
  const times: number[] = [];
  const ratings: number[] = [];
  const userIdx = new Map<number, number>();
  const movieIdx = new Map<number, number>();
  const userIds: number[] = [];
  const movieIds: number[] = [];
  let cols: number[] | null = null;
  let lineNo = 0;
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end).replace(/\r$/, '');
    pos = end + 1;
    lineNo++;
    if (line.trim() === '') continue;
    const f = line.split(',');
    if (cols === null) {
      cols = headerColumns(path, f.map((s) => s.trim()), ['userId', 'movieId', 'rating', 'timestamp']);
      continue;
    }
    const u = intField(path, lineNo, 'userId', f[cols[0]]);
    const m = intField(path, lineNo, 'movieId', f[cols[1]]);
    const rating = numField(path, lineNo, 'rating', f[cols[2]]);
    const ts = intField(path, lineNo, 'timestamp', f[cols[3]]);
    let ui = userIdx.get(u);
    if (ui === undefined) {
      userIdx.set(u, (ui = userIds.length));
      userIds.push(u);
    }
    let mi = movieIdx.get(m);
    if (mi === undefined) {
      movieIdx.set(m, (mi = movieIds.length));
      movieIds.push(m);
    }
    users.push(ui);
    movies.push(mi);
    ratings.push(rating);
    times.push(ts);
  }
  if (cols === null) {
    throw new InputError('empty_file', `${path} is empty; it needs the header userId,movieId,rating,timestamp.`, {
      path,
    });
  }
  return {
    userIds,
    movieIds,
    users: Int32Array.from(users),
    movies: Int32Array.from(movies),
    timestamps: Float64Array.from(times),
    ratings: Float32Array.from(ratings),
    length: users.length,
  };
}

export function loadRatingsCsv(path: string): Interactions {
  return parseRatingsCsv(readFileSync(path, 'utf8'), path);
}
