import { addressFamily } from "../model/address.ts";
import { exact, flat, intern } from "../model/compact.ts";
import type { Backend, Config, Farm } from "../model/farm.ts";
import { ConfigError, type ConfigIssue } from "../model/issues.ts";
import { parsePorts } from "../model/ports.ts";
import { activeBackends, slotMap } from "../scheduler/slots.ts";
import { backendCounterName } from "./counters.ts";
import type { Facts } from "./facts.ts";
import { NO_FACTS } from "./facts.ts";
import type { IrChain, IrMap, IrRuleset, IrTable } from "./ir.ts";
import { EVERY_PORT, TrafficMaps, trafficChain, trafficElements, type ServicePlace } from "./traffic.ts";

export const DEFAULT_TABLE = "switchyard";

/**
 * Bit 31 of the conntrack mark says "masquerade this connection" (snat mode). The farm chain
 * writes the scheduler's draw into the low bits with the flag as offset, so one statement
 * both picks the backend and marks the connection, and the postrouting chain needs no
 * per-farm lookup.
 */
export const SNAT_FLAG = 0x8000_0000;

const NAT_PRIORITY = { dstnat: -100, srcnat: 100 } as const;
const DSR_PRIORITY = 101;

type Ip = 4 | 6;
const IP: Record<Ip, { word: "ip" | "ip6"; addr: string; nfproto: string; ethertype: string }> = {
  4: { word: "ip", addr: "ipv4_addr", nfproto: "ipv4", ethertype: "ip" },
  6: { word: "ip6", addr: "ipv6_addr", nfproto: "ipv6", ethertype: "ip6" },
};

export interface BuildOptions {
  table?: string;
  facts?: Facts;
  /**
   * Keep each farm's parts for the next build (default true; see partsMemo). The control plane
   * builds the whole IR again on every change and gets unchanged farms back at no cost. The
   * agent holds one IR and changes it through core's lane for a few farms: for it the memo
   * only doubles the bookkeeping of every farm (4.9 MB at 10,000 farms), and costs a build of
   * the whole IR that does not go through the lane 0.2 s more at 10,000 farms.
   */
  memo?: boolean;
}

/** One virtual address of a farm with the backends of the same family. */
interface Service {
  farm: Farm;
  ip: Ip;
  vip: string;
  backends: readonly Backend[];
}

/** The services of a farm, one per address family. */
function splitServices(farm: Farm): Service[] {
  // The schema holds a farm of one family to backends of that family: only a dual farm splits them.
  const split = (ip: Ip) =>
    farm.family !== "dual" ? farm.backends : farm.backends.filter((b) => addressFamily(b["ip-addr"]) === (ip === 4 ? "ipv4" : "ipv6"));
  if (farm.family === "ipv4") return [{ farm, ip: 4, vip: farm["virtual-addr"], backends: split(4) }];
  if (farm.family === "ipv6") return [{ farm, ip: 6, vip: farm["virtual-addr"], backends: split(6) }];
  const services: Service[] = [{ farm, ip: 4, vip: farm["virtual-addr"], backends: split(4) }];
  if (farm["virtual-addr6"] !== undefined) services.push({ farm, ip: 6, vip: farm["virtual-addr6"], backends: split(6) });
  return services;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
const markRange = (from: number, to: number, offset: number) =>
  from === to ? hex(from + offset) : `${hex(from + offset)}-${hex(to + offset)}`;

/** A stable per-farm seed so that re-applying the same config keeps every client where it was. */
function seedOf(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hex(h);
}

function hashInput(service: Service): string {
  const w = IP[service.ip].word;
  const fields: Record<string, string> = {
    srcip: `${w} saddr`,
    dstip: `${w} daddr`,
    srcport: "th sport",
    dstport: "th dport",
    srcmac: "ether saddr",
    dstmac: "ether daddr",
  };
  const chosen = service.farm["sched-param"];
  return (chosen.length === 0 ? ["srcip"] : chosen).map((f) => fields[f]).join(" . ");
}

/** The expression that draws a number in 0..modulus-1 for a new connection (or frame). */
function selector(service: Service, modulus: number): string {
  const { farm } = service;
  const seed = seedOf(farm.name);
  if (farm.mode === "dsr" && (farm.scheduler === "rr" || farm.scheduler === "weight")) {
    // dsr has no connection tracking: a per-packet draw would scatter one TCP connection over
    // several backends. Hashing the flow keeps each flow on one backend while the shares
    // over many flows still follow the weights.
    return `jhash ${IP[service.ip].word} saddr . th sport mod ${modulus} seed ${seed}`;
  }
  switch (farm.scheduler) {
    case "rr":
      return `numgen inc mod ${modulus}`;
    case "weight":
      return `numgen random mod ${modulus}`;
    case "hash":
      return `jhash ${hashInput(service)} mod ${modulus} seed ${seed}`;
    case "symhash":
      return `symhash mod ${modulus}`;
  }
}

function natTarget(service: Service, backend: Backend): string {
  const addr = backend["ip-addr"];
  if (backend.port === null) return addr;
  return service.ip === 6 ? `[${addr}]:${backend.port}` : `${addr}:${backend.port}`;
}

/**
 * Backend ids in the conntrack mark: bit 30 and the backend's position among the service's
 * backends (with SNAT_FLAG in snat mode). The scheduler's draws stay below bit 30 (at most
 * MAX_BACKENDS × MAX_WEIGHT values), so a draw never reads as an id and an id never falls
 * into a draw's range.
 */
export const BACKEND_ID = 0x4000_0000;

const backendId = (flag: number, position: number) => (flag | BACKEND_ID | position) >>> 0;

/** Whether `text` from `from` on is the name of a farm chain or scheduler chain of farm `farm` (farm-NAME-4, sched-NAME-6). */
function isFarmChainAt(text: string, from: number, farm: string): boolean {
  const prefix = text.startsWith("farm-", from) ? 5 : text.startsWith("sched-", from) ? 6 : 0;
  const end = from + prefix + farm.length;
  return prefix > 0 && text.length === end + 2 && text.startsWith(farm, from + prefix) && (text.endsWith("-4") || text.endsWith("-6"));
}

/** Whether `chain` is one of the chains buildRuleset makes for farm `farm`. */
export const isFarmChain = (chain: string, farm: string): boolean => isFarmChainAt(chain, 0, farm);

/** Whether a service map's verdict goes to a chain of farm `farm` (`goto farm-NAME-4`). */
export const isFarmVerdict = (verdict: string, farm: string): boolean => verdict.startsWith("goto ") && isFarmChainAt(verdict, 5, farm);

/** The scheduler chain of a NAT service's farm chain (the one its map elements go to). */
function schedChainName(farmChain: string): string {
  // "sched-" never begins a farm chain's name ("farm-"), so no farm name can collide with it.
  return flat(`sched-${farmChain.slice("farm-".length)}`);
}

/**
 * A NAT service's two chains. The farm chain holds what changes only with the backends
 * themselves (added, removed, readdressed): a jump to the scheduler chain, then per backend,
 * whatever its state, `ct mark ID dnat to …`, and a last `drop` for a connection that got no
 * backend id. The scheduler chain writes the chosen backend's id into the ct mark and is all
 * that a state, weight or priority change refills. It holds no verdict and no NAT statement:
 * a batch that adds a rule with either makes the kernel validate the whole table at commit,
 * linear in the farms (12–23 ms at 10,000), while these rules commit in well under 1 ms.
 * Sched first: a script defines the jump's target before the rule that names it.
 */
function serviceNatChains(service: Service, chainName: string): IrChain[] {
  const flag = service.farm.mode === "snat" ? SNAT_FLAG : 0;
  const schedName = schedChainName(chainName);
  // nft maps a port only after a transport protocol match; the farm's protocol is one. The
  // backend's named counter counts the connections it is given (nat chains see a connection's
  // first packet only); named, it keeps its count when the chain is flushed and refilled.
  const dnat = (b: Backend, i: number) =>
    flat(
      `ct mark ${hex(backendId(flag, i))} ${b.port === null ? "" : `meta l4proto ${service.farm.protocol} `}counter name ${backendCounterName(service.farm.name, b.name)} dnat ${IP[service.ip].word} to ${natTarget(service, b)}`,
    );
  const farmRules = [flat(`jump ${schedName}`), ...service.backends.map(dnat), "drop"];
  return [
    Object.freeze({ name: schedName, rules: Object.freeze(schedRules(service, flag)) as string[] }),
    Object.freeze({ name: chainName, rules: Object.freeze(exact(farmRules)) as string[] }),
  ];
}

/**
 * The scheduler chain's rules: the draw, then one rule per active backend that turns its
 * range of draws into its id. When the draws are the ids already (equal weights over
 * backends next to each other, as when all of a farm's backends are up), the draw alone,
 * offset to the first one's id. No active backend: a mark that is no backend's id, so the
 * farm chain drops the connection (set rather than left, as another table may have marked
 * the connection first).
 * The ids of a draw are positions, not names: a farm's rules here are alike across the farms
 * of one scheduler and backend layout (but for a hash's seed), so they are interned, one copy
 * for all of them, kept for as long as any farm holds it.
 */
function schedRules(service: Service, flag: number): string[] {
  const active = activeBackends(service.backends, service.farm.priority);
  if (active.length === 0) return [intern(`ct mark set numgen random mod 1 offset ${hex(flag)}`)];
  const position = new Map(service.backends.map((b, i) => [b, i]));
  const idOf = (b: Backend) => backendId(flag, position.get(b) as number);
  const { modulus, slots } = slotMap(active, service.farm.scheduler);
  const first = idOf(active[0] as Backend);
  if (slots.every((s, k) => s.from === k && s.to === k && idOf(s.backend) === first + k)) {
    // One backend: a draw of one value, numgen's (no hash to compute). Not `ct mark set ID`:
    // an immediate value has a validate hook, and would cost the whole-table validation.
    const draw = modulus === 1 ? "numgen random mod 1" : selector(service, modulus);
    return [intern(`ct mark set ${draw} offset ${hex(first)}`)];
  }
  const offset = flag === 0 ? "" : ` offset ${hex(flag)}`;
  const rules = [intern(`ct mark set ${selector(service, modulus)}${offset}`)];
  // The same trick as above for the id: a draw of one value, where an immediate would validate.
  for (const s of slots) rules.push(intern(`ct mark ${markRange(s.from, s.to, flag)} ct mark set numgen random mod 1 offset ${hex(idOf(s.backend))}`));
  return exact(rules);
}

function dsrChainRules(service: Service, facts: Facts, issues: ConfigIssue[]): string[] {
  const { farm } = service;
  const out = farm.oface ?? farm.iface ?? "";
  const srcMac = farm["ether-addr"] ?? facts.interfaces[out]?.mac;
  if (srcMac === undefined) {
    issues.push({ farm: farm.name, field: farm.oface ? "oface" : "iface", value: out, message: "MAC address of this interface unknown on the host (no such interface?)" });
  }
  const active = activeBackends(service.backends, farm.priority);
  if (active.length === 0) return ["drop"];
  const rewrite = (b: Backend) => {
    const mac = b["ether-addr"] ?? facts.neighbours[b["ip-addr"]];
    if (mac === undefined) {
      issues.push({
        farm: farm.name,
        backend: b.name,
        field: "ether-addr",
        message: `MAC address of ${b["ip-addr"]} unknown: not in the neighbour table of ${out}; set ether-addr or make the backend reachable`,
      });
    }
    return `ether saddr set ${srcMac ?? "00:00:00:00:00:00"} ether daddr set ${mac ?? "00:00:00:00:00:00"} fwd to "${out}"`;
  };
  if (active.length === 1) return [rewrite(active[0] as Backend)];
  const { modulus, slots } = slotMap(active, farm.scheduler);
  return [`meta mark set ${selector(service, modulus)}`, ...slots.map((s) => `meta mark ${markRange(s.from, s.to, 0)} ${rewrite(s.backend)}`)];
}

type Element = [key: string, verdict: string];
type MapKind = "ports" | "ranges" | "proto" | "addr";
const KIND: Record<string, MapKind> = { p: "ports", r: "ranges", x: "proto", a: "addr" };

/** What one service (a farm's address of one family) puts into the IR. */
interface ServiceParts {
  ip: Ip;
  chainName: string;
  /** The NAT chains (scheduler, farm: see serviceNatChains); none in dsr mode, whose rules depend on the host's facts (built every time). */
  chains: readonly IrChain[];
  /** The map of each element, a letter each: p(orts), r(anges), x (every port), a(ll protocols): see KIND. */
  kinds: string;
  /** Where the service goes in its family's maps: one element per port or range, or one for all. */
  elements: readonly Element[];
  /** A NAT service's elements of its family's traffic maps (see traffic.ts), a letter each as `kinds`; none in dsr mode. */
  trafficKinds: string;
  traffic: readonly Element[];
  /** The farm's next service (a dual farm's IPv6 address), or null. */
  next: ServiceParts | null;
  /** On a NAT farm's first service: the farm's named counters (see farmCounters), made on first use. */
  counters: readonly string[] | null;
}

/**
 * A farm's chains and elements depend on the farm alone, so a farm object that did not change
 * (configs keep unchanged farms' objects from one to the next) gets the very same objects back:
 * building 10,000 farms after a one-farm change redoes one, and the delta planner can tell an
 * unchanged chain by identity. One entry per farm (its first service, the others linked from
 * it), and the IR's chains and element pairs are these very objects, not copies; what the memo
 * adds is each farm's parts and their lists (4.9 MB at 10,000 farms, see BuildOptions.memo). Frozen:
 * IR objects are never mutated, and a caller that edited a built IR in place would otherwise
 * edit every later build.
 */
const partsMemo = new WeakMap<Farm, ServiceParts>();

/** The parts of a farm's services, first to last through `next`: the memo's, or new ones (kept there when `memo`). */
function partsOf(farm: Farm, memo: boolean): ServiceParts {
  let parts = partsMemo.get(farm);
  if (parts === undefined) {
    let next: ServiceParts | null = null;
    for (const service of splitServices(farm).reverse()) next = serviceParts(service, next);
    parts = next as ServiceParts;
    if (memo) partsMemo.set(farm, parts);
  }
  return parts;
}

function serviceParts(service: Service, next: ServiceParts | null): ServiceParts {
  const { farm, ip, vip } = service;
  const chainName = flat(`farm-${farm.name}-${ip}`);
  const verdict = flat(`goto ${chainName}`);
  let kinds = "";
  const elements: Element[] = [];
  const places: ServicePlace[] = [];
  const add = (kind: keyof typeof KIND, key: string, ports: string | null) => {
    kinds += kind;
    elements.push(Object.freeze([flat(key), verdict]) as Element);
    places.push({ kind: kind as ServicePlace["kind"], ports });
  };
  if (farm.protocol === "all") add("a", vip, null);
  else {
    const parsed = parsePorts(farm["virtual-ports"]);
    const ranges = parsed.ok ? parsed.ranges : [];
    if (ranges.length === 0) add("x", `${farm.protocol} . ${vip}`, EVERY_PORT);
    for (const r of ranges) {
      if (r.from === r.to) add("p", `${farm.protocol} . ${vip} . ${r.from}`, String(r.from));
      else add("r", `${farm.protocol} . ${vip} . ${r.from}-${r.to}`, `${r.from}-${r.to}`);
    }
  }
  if (farm.mode === "dsr") return { ip, chainName, chains: [], kinds, elements: Object.freeze(exact(elements)), trafficKinds: "", traffic: [], next, counters: null };
  const chains = Object.freeze(serviceNatChains(service, chainName));
  const traffic = trafficElements(farm.name, farm.protocol, vip, places, service.backends);
  return { ip, chainName, chains, kinds, elements: Object.freeze(exact(elements)), trafficKinds: traffic.kinds, traffic: Object.freeze(traffic.elements), next, counters: null };
}

/**
 * The named counters of a NAT farm: one per backend, its connections (see counters.ts; its
 * traffic counts in the traffic sets' elements), whatever its state, so that a backend that
 * goes down and comes back keeps its counts. Kept in the farm's first parts, as its chains (a
 * build of 10,000 farms from the memo then reuses 40,000 names).
 */
function farmCounters(farm: Farm, parts: ServiceParts): readonly string[] {
  parts.counters ??= Object.freeze(farm.backends.map((b) => flat(backendCounterName(farm.name, b.name))));
  return parts.counters;
}

/** The four service maps of one address family: exact ports, port ranges, every port, every protocol. */
class ServiceMaps {
  readonly ports: IrMap;
  readonly ranges: IrMap;
  readonly proto: IrMap;
  readonly addr: IrMap;

  constructor(readonly ip: Ip, suffix: string) {
    const a = IP[ip].addr;
    this.ports = { name: `svc${ip}-ports${suffix}`, key: `inet_proto . ${a} . inet_service`, interval: false, elements: [] };
    this.ranges = { name: `svc${ip}-ranges${suffix}`, key: `inet_proto . ${a} . inet_service`, interval: true, elements: [] };
    this.proto = { name: `svc${ip}-proto${suffix}`, key: `inet_proto . ${a}`, interval: false, elements: [] };
    this.addr = { name: `svc${ip}-addr${suffix}`, key: a, interval: false, elements: [] };
  }

  add(parts: ServiceParts): void {
    parts.elements.forEach((element, i) => this[KIND[parts.kinds[i] as string] as MapKind].elements.push(element));
  }

  get all(): IrMap[] {
    return [this.ports, this.ranges, this.proto, this.addr];
  }

  /** Lookups from the most to the least specific: a farm on one port wins over a farm on every port. */
  lookups(l3: string): string[] {
    const w = IP[this.ip].word;
    return [
      `${l3} meta l4proto . ${w} daddr . th dport vmap @${this.ports.name}`,
      `${l3} meta l4proto . ${w} daddr . th dport vmap @${this.ranges.name}`,
      `${l3} meta l4proto . ${w} daddr vmap @${this.proto.name}`,
      `${l3} ${w} daddr vmap @${this.addr.name}`,
    ];
  }
}

/**
 * Model -> IR. NAT farms (snat, dnat) live in one `inet` table: nat hooks see only the first
 * packet of a connection, so the lookups and the backend draw cost nothing per packet after
 * it; conntrack keeps each connection on its backend. The same table's forward chain counts
 * every packet of those connections per backend (one lookup a packet, see traffic.ts). dsr
 * farms live in a `netdev` table with an ingress chain per receiving interface.
 */
export function buildRuleset(config: Config, options: BuildOptions = {}): IrRuleset {
  const table = options.table ?? DEFAULT_TABLE;
  const facts = options.facts ?? NO_FACTS;
  const memo = options.memo ?? true;
  const issues: ConfigIssue[] = [];
  const farms = config.farms.filter((f) => f.state === "up");

  const nat4 = new ServiceMaps(4, "");
  const nat6 = new ServiceMaps(6, "");
  const traffic4 = new TrafficMaps(4);
  const traffic6 = new TrafficMaps(6);
  const natChains: IrChain[] = [];
  const counters: string[] = [];
  const dsrByIface = new Map<string, { v4: ServiceMaps; v6: ServiceMaps; chains: IrChain[] }>();

  for (const farm of farms) {
    if (farm.mode === "dsr") {
      const iface = farm.iface ?? "";
      let dev = dsrByIface.get(iface);
      if (!dev) {
        dev = { v4: new ServiceMaps(4, `-${iface}`), v6: new ServiceMaps(6, `-${iface}`), chains: [] };
        dsrByIface.set(iface, dev);
      }
      const services = splitServices(farm);
      for (let parts: ServiceParts | null = partsOf(farm, memo), i = 0; parts !== null; parts = parts.next, i++) {
        (parts.ip === 4 ? dev.v4 : dev.v6).add(parts);
        dev.chains.push({ name: parts.chainName, rules: dsrChainRules(services[i] as Service, facts, issues) });
      }
    } else {
      const first = partsOf(farm, memo);
      for (const counter of farmCounters(farm, first)) counters.push(counter);
      for (let parts: ServiceParts | null = first; parts !== null; parts = parts.next) {
        (parts.ip === 4 ? nat4 : nat6).add(parts);
        (parts.ip === 4 ? traffic4 : traffic6).add(parts.trafficKinds, parts.traffic);
        for (const chain of parts.chains) natChains.push(chain);
      }
    }
  }
  // A dual dsr farm meets the same missing interface once per family: report it once.
  if (issues.length > 0) throw new ConfigError([...new Map(issues.map((i) => [JSON.stringify(i), i])).values()]);

  const tables: IrTable[] = [
    {
      family: "inet",
      name: table,
      maps: [...nat4.all, ...nat6.all, ...traffic4.all, ...traffic6.all],
      chains: [
        {
          name: "prerouting",
          hook: { type: "nat", hook: "prerouting", priority: NAT_PRIORITY.dstnat },
          rules: [...nat4.lookups("meta nfproto ipv4"), ...nat6.lookups("meta nfproto ipv6")],
        },
        {
          name: "postrouting",
          hook: { type: "nat", hook: "postrouting", priority: NAT_PRIORITY.srcnat },
          rules: [`ct mark and ${hex(SNAT_FLAG)} == ${hex(SNAT_FLAG)} masquerade`],
        },
        trafficChain(traffic4, traffic6),
        ...natChains,
      ],
      ...(counters.length > 0 ? { counters: exact(counters) } : {}),
    },
  ];

  if (dsrByIface.size > 0) {
    const maps: IrMap[] = [];
    const chains: IrChain[] = [];
    for (const [iface, dev] of [...dsrByIface].sort(([a], [b]) => a.localeCompare(b))) {
      maps.push(...dev.v4.all, ...dev.v6.all);
      chains.push({
        name: `ingress-${iface}`,
        hook: { type: "filter", hook: "ingress", priority: DSR_PRIORITY, device: iface },
        rules: [...dev.v4.lookups("meta protocol ip"), ...dev.v6.lookups("meta protocol ip6")],
      });
      chains.push(...dev.chains);
    }
    tables.push({ family: "netdev", name: table, maps, chains });
  }
  return { tables };
}
