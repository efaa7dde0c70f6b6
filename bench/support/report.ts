/** What a section hands back: markdown for RESULTS.md and any broken invariant (the smoke run fails on those). */
export type SectionReport = { title: string; markdown: string[]; problems: string[] };

export type BenchOptions = {
  smoke: boolean;
  /** Prints progress to stderr; RESULTS.md gets only the figures. */
  progress: (line: string) => void;
};

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / samples.length;
}

export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  const cells = (row: readonly (string | number)[]) => `| ${row.map(String).join(" | ")} |`;
  return [cells(header), cells(header.map(() => "---")), ...rows.map(cells)];
}

/** `ours / baseline` as "12.3×", or "n/a" when the baseline is zero. */
export function ratio(numerator: number, denominator: number, digits = 1): string {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return "n/a";
  return `${(numerator / denominator).toFixed(digits)}×`;
}

export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

export function usd(value: number): string {
  if (value === 0) return "$0";
  if (Math.abs(value) < 0.01) return `$${value.toPrecision(2)}`;
  return `$${value.toFixed(2)}`;
}
