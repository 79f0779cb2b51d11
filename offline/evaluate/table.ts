// quality.py's print_table layout, so the two tools' outputs can be compared line by line.

import { ScoreResult } from '../../functions/core/evaluate/score';

export interface TableRow {
  name: string;
  metrics: ScoreResult;
  /** seconds, or null to leave the column empty */
  secs: number | null;
}

export function formatTable(rows: readonly TableRow[], title?: string): string {
  const lines: string[] = [];
  if (title) lines.push(title);
  const hdr =
    'model'.padEnd(30) +
    ['users'].map((h) => h.padStart(7)).join('') +
    ['P@10', 'R@10', 'NDCG@10', 'HR@10', 'Cov@10'].map((h) => h.padStart(9)).join('') +
    'sec'.padStart(8);
  lines.push(hdr, '-'.repeat(hdr.length));
  for (const { name, metrics: m, secs } of rows) {
    const f = (v: number) => v.toFixed(4).padStart(9);
    lines.push(
      name.padEnd(30) +
        String(m.users).padStart(7) +
        f(m['precision@10']) +
        f(m['recall@10']) +
        f(m['ndcg@10']) +
        f(m['hitrate@10']) +
        f(m['coverage@10']) +
        (secs === null ? '' : secs.toFixed(2).padStart(8)),
    );
  }
  return lines.join('\n');
}
