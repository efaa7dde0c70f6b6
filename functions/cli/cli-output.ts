/** A mistake in how dhx was called, or a thing asked for that is not there: exit code 2, message only. */
export class UsageError extends Error {
  override readonly name = "UsageError" as const;
}

export type Output = { write(text: string): void };

/** Plain columns, padded to the widest cell; trailing blanks trimmed. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** 75 s → "1m15s": durations an operator reads at a glance. */
export function formatElapsed(ms: number | undefined): string {
  if (ms === undefined) return "";
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
