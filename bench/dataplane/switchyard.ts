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

/**
 * Switchyard's script changed to price its counters (DATAPLANE_D_COUNTERS, see run.ts): "none"
 * takes the named per-backend counters out (the shape before them); "perpacket" adds a forward
 * chain that counts every packet, both directions, in the backend's counter through a map keyed
 * by the backend's address . port (filled to one element per backend of every farm).
 */
export function countersScript(script: string, mode: "perpacket" | "none"): string {
  if (mode === "none") {
    return script.replace(/\tcounter \S+ \{\n(\t\tpackets \d+ bytes \d+\n)?\t\}\n/g, "").replace(/ counter name \S+ dnat /g, " dnat ");
  }
  const counters: string[] = [];
  const backends = new Set<string>();
  for (const m of script.matchAll(/ counter name (\S+) dnat ip to (\S+)$/gm)) {
    counters.push(m[1] as string);
    backends.add(m[2] as string);
  }
  const elems = [...backends].map((b, i) => `${b.replace(":", " . ")} : ${counters[i] ?? counters[0]}`);
  // Filler elements (addresses never seen) so the map is as large as the farms' backends make it.
  for (let i = 0; i < counters.length - backends.size; i++) elems.push(`198.19.${(i >> 8) & 255}.${i & 255} . ${1000 + (i >> 16)} : ${counters[i]}`);
  const chain = [
    `\tmap bk4 {\n\t\ttype ipv4_addr . inet_service : counter\n\t\telements = { ${elems.join(", ")} }\n\t}`,
    "\tchain count {\n\t\ttype filter hook forward priority filter; policy accept;\n" +
      "\t\tct direction original meta nfproto ipv4 counter name ip daddr . th dport map @bk4\n" +
      "\t\tct direction reply meta nfproto ipv4 counter name ip saddr . th sport map @bk4\n\t}",
  ];
  const lines = script.split("\n");
  const at = lines.findIndex((l) => l.startsWith("table inet switchyard {"));
  lines.splice(at + 1, 0, ...chain);
  return lines.join("\n");
}
