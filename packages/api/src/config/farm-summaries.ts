import { MODES, PROTOCOLS, SCHEDULERS, STATES, canonicalIpv6, type NftlbFarm } from "@switchyard/core";
import { z } from "zod";

// What the farms table shows of each farm, and how it is searched, filtered, sorted and paged
// on the server: the browser never receives the whole config (10,000 farms are 5 MB of JSON).

export const farmSummary = z.object({
  name: z.string(),
  family: z.string(),
  virtualAddr: z.string(),
  /** The IPv6 address of a dual farm. */
  virtualAddr6: z.string().nullable(),
  /** nftlb's virtual-ports ("80,443", "8000-8100"); empty: every port. */
  ports: z.string(),
  protocol: z.enum(PROTOCOLS),
  mode: z.enum(MODES),
  scheduler: z.enum(SCHEDULERS),
  state: z.enum(STATES),
  backends: z.object({ total: z.number().int(), up: z.number().int(), down: z.number().int(), off: z.number().int() }),
});
export type FarmSummary = z.infer<typeof farmSummary>;

export const SORTS = ["name", "-name", "address", "-address", "state", "-state", "created", "-created"] as const;
export type Sort = (typeof SORTS)[number];

export const farmPageInput = z.object({
  /** A piece of a farm's name or virtual address, any case. */
  query: z.string().max(200).default(""),
  state: z.enum(STATES).optional(),
  mode: z.enum(MODES).optional(),
  protocol: z.enum(PROTOCOLS).optional(),
  /** Only farms with a backend that is not up. */
  degraded: z.boolean().default(false),
  sort: z.enum(SORTS).default("name"),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(200).default(50),
});
export type FarmPageInput = z.output<typeof farmPageInput>;

const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** Rows of the stored config (nftlb's form: every attribute present, the stored config valid). */
export function summarizeFarms(farms: readonly NftlbFarm[]): FarmSummary[] {
  return farms.map((farm) => {
    const backends = { total: 0, up: 0, down: 0, off: 0 };
    for (const backend of Array.isArray(farm.backends) ? farm.backends : []) {
      backends.total++;
      const state = backend.state as FarmSummary["state"];
      backends[state]++;
    }
    return {
      name: text(farm.name),
      family: text(farm.family),
      virtualAddr: text(farm["virtual-addr"]),
      virtualAddr6: typeof farm["virtual-addr6"] === "string" ? farm["virtual-addr6"] : null,
      ports: text(farm["virtual-ports"]),
      protocol: farm.protocol as FarmSummary["protocol"],
      mode: farm.mode as FarmSummary["mode"],
      scheduler: farm.scheduler as FarmSummary["scheduler"],
      state: farm.state as FarmSummary["state"],
      backends,
    };
  });
}

/** An address as text that sorts in numeric order (IPv4 before IPv6). */
export function addressSortKey(address: string): string {
  if (address.includes(":")) {
    const groups = canonicalIpv6(address).split("::");
    const head = groups[0] === "" || groups[0] === undefined ? [] : groups[0].split(":");
    const tail = groups[1] === undefined || groups[1] === "" ? [] : groups[1].split(":");
    const full = [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail];
    return `6${full.map((g) => g.padStart(4, "0")).join("")}`;
  }
  return `4${address.split(".").map((o) => o.padStart(3, "0")).join("")}`;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byName = (a: FarmSummary, b: FarmSummary) => byText(a.name.toLowerCase(), b.name.toLowerCase()) || byText(a.name, b.name);

/** The rows in `sort`'s order (`rows` in creation order; sorted in place). */
export function sortFarms(rows: FarmSummary[], sort: Sort): FarmSummary[] {
  const key = sort.replace(/^-/, "");
  if (key === "name") rows.sort(byName);
  else if (key === "address") {
    const keys = new Map(rows.map((r) => [r, `${addressSortKey(r.virtualAddr)} ${r.ports}`]));
    rows.sort((a, b) => byText(keys.get(a) ?? "", keys.get(b) ?? "") || byName(a, b));
  } else if (key === "state") {
    // down, off, up: what needs looking at comes first.
    rows.sort((a, b) => byText(a.state, b.state) || byName(a, b));
  }
  return sort.startsWith("-") ? rows.reverse() : rows;
}

/** Whether a farm matches the page's search and filters. */
export function farmMatcher(input: FarmPageInput): (row: FarmSummary) => boolean {
  const query = input.query.trim().toLowerCase();
  return (row) =>
    (input.state === undefined || row.state === input.state) &&
    (input.mode === undefined || row.mode === input.mode) &&
    (input.protocol === undefined || row.protocol === input.protocol) &&
    (!input.degraded || row.backends.up < row.backends.total) &&
    (query === "" || row.name.toLowerCase().includes(query) || row.virtualAddr.includes(query) || (row.virtualAddr6 ?? "").includes(query));
}

/** How many farms are in each state (of all farms, whatever the filters). */
export function stateCounts(rows: readonly FarmSummary[]): Record<FarmSummary["state"], number> {
  const counts = { up: 0, down: 0, off: 0 };
  for (const row of rows) counts[row.state]++;
  return counts;
}
