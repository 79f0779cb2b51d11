// Recommendation lists as `userId,rank,movieId` CSV (rank 1 = best): the exchange format of
// quality.py --score and --emit-recs.

import { readFileSync, writeFileSync } from 'node:fs';
import { InputError } from '../../functions/core/types';
import { csvLines, headerColumns, intField } from './csvText';
import { Recommendations } from '../../functions/core/evaluate/score';

/** Reads a recs file. Columns may come in any order (extra columns are ignored); each user's rows
 * are ordered by rank, ties keeping file order (as quality.py's stable sort does). */
export function readRecsCsv(path: string): Map<number, number[]> {
  const rows = csvLines(readFileSync(path, 'utf8'));
  if (rows.length === 0) {
    throw new InputError('empty_file', `${path} is empty; it needs the header userId,rank,movieId.`, { path });
  }
  const [cu, cr, cm] = headerColumns(path, rows[0].fields, ['userId', 'rank', 'movieId']);
  const byUser = new Map<number, { rank: number; movie: number }[]>();
  for (let i = 1; i < rows.length; i++) {
    const { line, fields } = rows[i];
    const u = intField(path, line, 'userId', fields[cu]);
    const rank = intField(path, line, 'rank', fields[cr]);
    const movie = intField(path, line, 'movieId', fields[cm]);
    let list = byUser.get(u);
    if (!list) byUser.set(u, (list = []));
    list.push({ rank, movie });
  }
  const out = new Map<number, number[]>();
  for (const u of [...byUser.keys()].sort((a, b) => a - b)) {
    const list = byUser.get(u)!;
    list.sort((a, b) => a.rank - b.rank); // Array.prototype.sort is stable
    out.set(u, list.map((x) => x.movie));
  }
  return out;
}

/** Writes lists in ascending userId order, ranks 1..n (quality.py's write_recs layout). */
export function writeRecsCsv(recs: Recommendations, path: string): void {
  const parts: string[] = ['userId,rank,movieId\n'];
  for (const u of [...recs.keys()].sort((a, b) => a - b)) {
    const list = recs.get(u)!;
    for (let i = 0; i < list.length; i++) parts.push(`${u},${i + 1},${list[i]}\n`);
  }
  writeFileSync(path, parts.join(''));
}
