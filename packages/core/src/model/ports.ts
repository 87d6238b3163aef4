/** An inclusive port interval; a single port has from === to. */
export interface PortRange {
  from: number;
  to: number;
}

export type PortsResult = { ok: true; ranges: PortRange[] } | { ok: false; reason: string };

/**
 * Parses nftlb's `virtual-ports` syntax ("80,443,8000-8100"). The empty string means
 * "every port". Ranges are sorted and overlapping or adjacent ones merged, so that two
 * spellings of the same set of ports compare equal.
 */
export function parsePorts(text: string): PortsResult {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, ranges: [] };
  const ranges: PortRange[] = [];
  for (const rawPart of trimmed.split(",")) {
    const part = rawPart.trim();
    const match = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(part);
    if (!match) return { ok: false, reason: `"${part}" is not a port or a range such as 8000-8100` };
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (const port of [from, to]) {
      if (port < 1 || port > 65535) return { ok: false, reason: `port ${port} is out of range 1-65535` };
    }
    if (to < from) return { ok: false, reason: `range ${part} ends before it starts` };
    ranges.push({ from, to });
  }
  ranges.sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: PortRange[] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return { ok: true, ranges: merged };
}

export function formatPorts(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(",");
}

/** The first overlap between two non-empty port lists, or null. */
export function rangesOverlap(a: readonly PortRange[], b: readonly PortRange[]): PortRange | null {
  for (const x of a) {
    for (const y of b) {
      if (x.from <= y.to && y.from <= x.to) return { from: Math.max(x.from, y.from), to: Math.min(x.to, y.to) };
    }
  }
  return null;
}
