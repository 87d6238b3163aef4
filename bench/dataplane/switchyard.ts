import { buildRuleset, OWNED_FAMILIES, parseConfig, renderReplaceScript } from "@switchyard/core";
import type { Service } from "./plan.ts";

// The nft scripts of variants (b) and (c). Pure: no I/O.

/** The table name the benchmark gives Switchyard (and the one it deletes afterwards). */
export const SWITCHYARD_TABLE = "switchyard";

/** One nftlb farm per service: snat (masquerade, like kube-proxy), the default scheduler rr. */
export function switchyardConfig(services: readonly Service[], scheduler: "rr" | "weight" = "rr"): { farms: unknown[] } {
  return {
    farms: services.map((s) => ({
      name: s.name,
      family: "ipv4",
      "virtual-addr": s.vip,
      "virtual-ports": String(s.port),
      protocol: "tcp",
      mode: "snat",
      scheduler,
      backends: s.endpoints.map((ep, i) => ({ name: `b${i + 1}`, "ip-addr": ep.addr, port: String(ep.port) })),
    })),
  };
}

export interface SwitchyardRuleset {
  /** What the agent would apply: buildRuleset + renderReplaceScript of that config (for `nft -f -`). */
  script: string;
  chains: number;
  rules: number;
  mapElements: number;
}

export function switchyardRuleset(services: readonly Service[], table = SWITCHYARD_TABLE, scheduler: "rr" | "weight" = "rr"): SwitchyardRuleset {
  const config = parseConfig(switchyardConfig(services, scheduler));
  const ir = buildRuleset(config, { table });
  const chains = ir.tables.flatMap((t) => t.chains);
  return {
    script: renderReplaceScript(ir, table),
    chains: chains.length,
    rules: chains.reduce((n, c) => n + c.rules.length, 0),
    mapElements: ir.tables.flatMap((t) => t.maps).reduce((n, m) => n + m.elements.length, 0),
  };
}

/** Deletes the tables the agent owns under `table` (and nothing else), whether they exist or not. */
export function switchyardDeleteScript(table = SWITCHYARD_TABLE): string {
  return OWNED_FAMILIES.map((f) => `table ${f} ${table}\ndelete table ${f} ${table}\n`).join("");
}

export const CONNTRACK_TABLE = "sybench_conntrack";

/**
 * Variant (b): what every stateful balancer pays before it translates anything. NAT base
 * chains on prerouting and postrouting (so every new connection gets a NAT binding, here a
 * null one) and a `ct state` rule (so conntrack runs for every packet). The rule sits in the
 * nat chain, which only sees a connection's first packet, where it never matches.
 */
export function conntrackOnlyScript(table = CONNTRACK_TABLE): string {
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    "\tchain prerouting {",
    "\t\ttype nat hook prerouting priority dstnat; policy accept;",
    "\t\tct state established,related accept",
    "\t}",
    "\tchain postrouting {",
    "\t\ttype nat hook postrouting priority srcnat; policy accept;",
    "\t}",
    "}",
    "",
  ].join("\n");
}

/** The script without the blocks (`\tKIND NAME {` … `\t}`) whose header `drop` matches. */
function withoutBlocks(script: string, drop: RegExp): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of script.split("\n")) {
    if (!skipping && drop.test(line)) skipping = true;
    if (!skipping) out.push(line);
    else if (line === "\t}") skipping = false;
  }
  return out.join("\n");
}

/**
 * Switchyard's script changed to price its counters (DATAPLANE_D_COUNTERS, see run.ts):
 * "connections" takes the traffic counters out (the forward chain and its counted sets: the
 * shape with connection counters only); "none" takes every named counter out
 * (the shape before any).
 */
export function countersScript(script: string, mode: "connections" | "none"): string {
  const connections = withoutBlocks(script, /^\t(chain traffic|set traffic[46]-\S+) \{$/);
  if (mode === "connections") return connections;
  return withoutBlocks(connections, /^\tcounter c\/\S+ \{$/).replace(/ counter name \S+ dnat /g, " dnat ");
}
