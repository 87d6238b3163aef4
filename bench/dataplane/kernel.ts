// Readers of /proc text. Pure: they take the file's contents.

export interface LoadAvg {
  one: number;
  five: number;
  fifteen: number;
}

/** /proc/loadavg: "0.52 0.58 0.59 1/467 12345". */
export function parseLoadAvg(text: string): LoadAvg {
  const [one = "NaN", five = "NaN", fifteen = "NaN"] = text.trim().split(/\s+/);
  return { one: Number(one), five: Number(five), fifteen: Number(fifteen) };
}

/**
 * /proc/net/stat/nf_conntrack: a header naming the columns, then one line of hex counters
 * per CPU. Returns the column sums (e.g. drop, early_drop, insert_failed).
 */
export function parseConntrackStat(text: string): Record<string, number> {
  const [header = "", ...lines] = text.trim().split("\n");
  const names = header.trim().split(/\s+/);
  const sums: Record<string, number> = {};
  for (const line of lines) {
    line
      .trim()
      .split(/\s+/)
      .forEach((hex, i) => {
        const name = names[i];
        if (name !== undefined && name !== "entries") sums[name] = (sums[name] ?? 0) + parseInt(hex, 16);
      });
  }
  return sums;
}
