// BENCHMARKS.md opens with one table: each target's latest measured verdict, with the run it came from.
// The latest measurement of every target is kept in bench/results/latest.json (committed with the runs), so a
// run that measures only some targets updates those rows and leaves the others as the last run that
// measured them left them.
import type { TargetResult } from './targets';

export interface RunInfo {
  date: string;
  command: string;
  machine: string;
  load: string;
}

export interface LatestEntry extends TargetResult {
  run: RunInfo;
}

export type Latest = Record<string, LatestEntry>;

export const SUMMARY_START = '<!-- bench-summary:start: written by `npm run bench` from bench/results/latest.json -->';
export const SUMMARY_END = '<!-- bench-summary:end -->';

/** `latest` with this run's measured targets replacing theirs; targets it did not measure are kept. */
export function mergeLatest(latest: Latest, results: TargetResult[], run: RunInfo): Latest {
  const next: Latest = { ...latest };
  for (const t of results) if (t.verdict !== 'not measured') next[t.id] = { ...t, run };
  return next;
}

/** The summary table: every target of `order` (this run's list, so a new target shows up as not measured), then
 * any other target `latest` holds. */
export function renderSummary(latest: Latest, order: TargetResult[]): string {
  // targets this run does not list (e.g. the inertia row, listed only when measured) keep their latest row
  const listed = new Set(order.map((t) => t.id));
  const all = [...order, ...Object.values(latest).filter((e) => !listed.has(e.id))];
  const rows = all.map((t) => {
    const e = latest[t.id];
    if (!e) return `| ${t.name} | not measured | ${t.detail} | - |`;
    const verdict = e.verdict === 'FAIL' ? '**FAIL**' : e.verdict;
    return `| ${e.name} | ${verdict} | ${e.detail} | ${e.run.date}, \`${e.run.command}\`, load ${e.run.load.split(' / ')[0]} |`;
  });
  return [
    SUMMARY_START,
    '',
    '| target | verdict | latest measurement | run (UTC), command, 1-min load at start |',
    '|---|---|---|---|',
    ...rows,
    '',
    'Each row is the latest run that measured it; that run\'s full tables are below under its date. The machine is',
    'a shared 2-vCPU box: within a row, the numbers compared were measured in the same run.',
    '',
    SUMMARY_END,
  ].join('\n');
}

/** The file's text with the summary block replaced, or inserted before its first `## ` section. */
export function insertSummary(file: string, summary: string): string {
  const start = file.indexOf(SUMMARY_START);
  const end = file.indexOf(SUMMARY_END);
  if (start >= 0 && end > start) return file.slice(0, start) + summary + file.slice(end + SUMMARY_END.length);
  const heading = '## Summary: where each target stands\n\n';
  const first = file.search(/^## /m);
  if (first < 0) return `${file.trimEnd()}\n\n${heading}${summary}\n`;
  return `${file.slice(0, first)}${heading}${summary}\n\n${file.slice(first)}`;
}
