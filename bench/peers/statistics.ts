// Benchmarks report medians and ratios of samples taken side by side, never single timings.

/** The `fraction` quantile (0.5 = median) of `samples`, by linear interpolation. */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

/** Rounds for tables and JSON: 3 significant decimals under 10, 1 above. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  return Math.abs(value) < 10 ? Math.round(value * 1_000) / 1_000 : Math.round(value * 10) / 10;
}
