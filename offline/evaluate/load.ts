// Reading a ratings file for evaluation: the product's reader, with timestamps (the split is
// temporal) and ratings (kept in the split files), plus protocol step 1's input rule that quality.py
// applies to MovieLens 100k u.data files: user 0 is always removed.

import { readRatings, ReadOptions } from '../../functions/core/ratings';
import { DataReport, Interactions } from '../../functions/core/types';

export interface EvalInput {
  interactions: Interactions;
  report: DataReport;
  /** users the protocol removes before splitting (pass to splitInteractions' dropUsers) */
  dropUsers: number[];
}

export async function readRatingsForEvaluation(
  source: NodeJS.ReadableStream | string,
  opts: Pick<ReadOptions, 'format' | 'maxRejectedShare' | 'sourceName'> & { dropUsers?: number[] } = {},
): Promise<EvalInput> {
  const { interactions, report } = await readRatings(source, {
    format: opts.format,
    maxRejectedShare: opts.maxRejectedShare,
    sourceName: opts.sourceName,
    withTimestamps: true,
    withRatings: true,
  });
  const dropUsers = [...(opts.dropUsers ?? [])];
  if (report.format === 'u.data' && !dropUsers.includes(0)) dropUsers.push(0);
  return { interactions, report, dropUsers };
}
