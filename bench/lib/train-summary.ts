// The training child's result line: what bench/lib/train-child.ts prints and the parent reads back.

export const RESULT_MARK = 'BENCH_RESULT ';

export interface ChildResult {
  wallSeconds: number;
  maxRssBytes: number;
  /** CPU seconds of all threads: parse, matrix, cluster (clustering + counts + check, up to the model's
   * serialisation), write */
  cpuSeconds: Record<string, number>;
  seconds: Record<string, number>;
  inertia: number;
  iterations: number;
  nInit: number;
  k: number;
  /** 'seed' or 'taste' */
  algorithm: string;
  users: number;
  movies: number;
  interactions: number;
  notes: string[];
}

/** Reads the numbers back out of trainCommand's printed summary (the CLI's own words). */
export function parseSummary(lines: string[]): Omit<ChildResult, 'wallSeconds' | 'maxRssBytes' | 'cpuSeconds'> {
  const text = lines.join('\n');
  const num = (re: RegExp, what: string): number => {
    const m = re.exec(text);
    if (!m) throw new Error(`train summary has no ${what}:\n${text}`);
    return Number(m[1].replace(/,/g, ''));
  };
  const secondsLine = lines.find((l) => l.startsWith('seconds: '));
  if (!secondsLine) throw new Error(`train summary has no seconds line:\n${text}`);
  const seconds: Record<string, number> = {};
  for (const part of secondsLine.slice('seconds: '.length).split(' · ')) {
    const [name, value] = part.trim().split(/\s+/);
    if (name !== 'total') seconds[name] = Number(value);
  }
  return {
    seconds,
    inertia: num(/best inertia ([\d.]+)/, 'inertia'),
    iterations: num(/after (\d+) iterations/, 'iterations'),
    nInit: num(/n_init=(\d+)/, 'n_init'),
    k: num(/k-means: k=(\d+)/, 'k'),
    algorithm: /^algorithm (\w+)/m.exec(text)?.[1] ?? 'seed',
    users: num(/^users ([\d,]+)/m, 'users'),
    movies: num(/movies ([\d,]+)/, 'movies'),
    interactions: num(/interactions ([\d,]+)/, 'interactions'),
    notes: lines.filter((l) => l.startsWith('note: ')).map((l) => l.slice(6)),
  };
}

