// Medians, ranges and the text table. Pure.

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** Per-round ratios num[i]/den[i] (the rounds pair up: same round, minutes apart at most). */
export function pairedRatios(num: readonly number[], den: readonly number[]): number[] {
  if (num.length !== den.length) throw new Error("paired ratios need the same number of rounds");
  return num.map((n, i) => n / (den[i] as number));
}

/** 38212 -> "38.2k", 912 -> "912". */
export function rate(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (n >= 9995) return `${(n / 1000).toFixed(1)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(2)}k`;
  return n.toFixed(0);
}

export const rateCell = (s: Summary) => `${rate(s.median)} (${rate(s.min)}–${rate(s.max)})`;
export const ratioCell = (s: Summary) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;

export function seconds(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** Left-aligned text columns (right-aligned where `right[i]`), a rule under the header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(width[i] as number) : c.padEnd(width[i] as number)))
      .join("  ")
      .trimEnd();
  return [line(header), width.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
