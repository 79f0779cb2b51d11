// Small numeric helpers for the benchmark tables.

/** The q-quantile (0..1) of the values, nearest-rank on a sorted copy. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function latency(ms: ArrayLike<number>): Latency {
  return { n: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: quantile(ms, 1) };
}

/** Fixed decimals, or '-' when the value is missing. */
export function fx(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

export function kb(bytes: number): string {
  return (bytes / 1000).toFixed(0);
}
