// Small text formatters shared by the CLI commands: aligned tables, durations, token counts, timestamps.

/** Left-aligned columns separated by two spaces; the first row is the header. */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatDuration(milliseconds: number | null | undefined): string {
  if (milliseconds == null) return '-';
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  const minutes = Math.floor(milliseconds / 60_000);
  return `${minutes} min ${Math.round((milliseconds % 60_000) / 1000)} s`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** `2025-01-31 12:00:05` in UTC: sortable, and the same on every machine. */
export function formatTime(value: Date | null | undefined): string {
  if (!value) return '-';
  return value.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** JSON on one line, cut to `length` characters. */
export function formatJson(value: unknown, length = 160): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
