import type { Measure } from "./window";

// How the Traffic page writes each measure: rates with a unit a person reads at a glance
// (bytes in decimal multiples, as network rates are), totals in full.

export const MEASURE_LABEL: Record<Measure, { rate: string; total: string; unit: string }> = {
  connections: { rate: "New connections/s", total: "Connections", unit: "new conn/s" },
  packets: { rate: "Packets/s", total: "Packets", unit: "packets/s" },
  bytes: { rate: "Bytes/s", total: "Bytes", unit: "B/s" },
};

const number = (v: number) => (v === 0 ? "0" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

const PREFIXES = ["", "k", "M", "G", "T"];

/** A number in decimal steps of 1,000, with the prefix of its step: 1234567 → ["1.23", "M"]. */
function steps(v: number): [string, string] {
  let i = 0;
  while (v >= 1000 && i < PREFIXES.length - 1) {
    v /= 1000;
    i++;
  }
  return [number(v), PREFIXES[i] as string];
}

/** 1234567 → "1.23 M"; 512 → "512". */
export function scaled(v: number): string {
  const [n, prefix] = steps(v);
  return prefix === "" ? n : `${n} ${prefix}`;
}

/** A rate as the page writes it (bytes with their unit: "1.23 MB/s"), "—" when there is none yet. */
export function rateText(measure: Measure, v: number | undefined): string {
  if (v === undefined) return "—";
  if (measure === "bytes") {
    const [n, prefix] = steps(v);
    return `${n} ${prefix}B/s`;
  }
  return measure === "packets" ? scaled(v) : number(v);
}

/** A total since the counter was created (bytes with their unit: "4.07 GB"). */
export function totalText(measure: Measure, v: number): string {
  if (measure !== "bytes") return v.toLocaleString("en-US");
  const [n, prefix] = steps(v);
  return `${n} ${prefix}B`;
}
