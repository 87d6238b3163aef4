import { exact, flat } from "../model/compact.ts";
import type { Backend } from "../model/farm.ts";
import { backendTrafficCounterName } from "./counters.ts";
import type { IrChain, IrMap } from "./ir.ts";

// Packets and bytes per backend, both directions: a chain on the forward hook looks every
// packet of a balanced connection up by its conntrack entry in sets whose elements count
// (`<key> @traffic…`, sets declared `counter`): the element it matches is its backend's, and
// counts it. Per-element counters rather than 40,000 named counter objects at 10,000 farms:
// the cold apply loads 0.4 s faster and the IR names no object per element. The key is the
// connection's virtual address, protocol and port (the original tuple) and its real backend
// (the reply tuple, already rewritten by dnat when the first packet reaches forward), so it
// does not depend on the scheduler's slot layout: a re-weight moves slots but never the count
// of a connection that exists. Elements change only when a backend's address or port, or a
// farm's ports, change. dsr has no conntrack and its replies never pass through the balancer:
// no traffic counters there.

type Ip = 4 | 6;
type Element = [key: string, value: string];

/** Priority of the forward hook's filter chains (nft's `filter`). */
const FORWARD_FILTER_PRIORITY = 0;

/** Where one service sits in the service maps, the letter of build.ts's KIND: p(ort), r(ange), x (every port), a(ll protocols). */
export type PlaceKind = "p" | "r" | "x" | "a";

/** One place of a service: its kind and port text (a port, a range, EVERY_PORT for a farm on every port; null for a farm of every protocol). */
export interface ServicePlace {
  kind: PlaceKind;
  ports: string | null;
}

/** The protocols whose ports conntrack keeps: `ct … proto-dst` needs one of them matched first (nft 1.0.6 refuses it otherwise). */
const PORT_PROTOCOLS = ["tcp", "udp", "sctp"] as const;

export const EVERY_PORT = "0-65535";

const span = (ports: string): [number, number] => {
  const [from = "0", to = from] = ports.split("-");
  return [Number(from), Number(to)];
};

/**
 * The traffic elements of one service, place by place (a letter each in `kinds`, as the
 * service maps'). Every backend gets one per place, whatever its state: a backend set down
 * keeps its connections, and they keep counting. Two backends of one farm at the same
 * address whose ports overlap (the same port, or one that keeps the destination port) are
 * one and the same reply tuple: the kernel cannot tell their traffic apart, and an interval
 * map refuses overlapping keys, so the first of them gets the element and counts for both.
 */
export function trafficElements(farm: string, protocol: string, vip: string, places: readonly ServicePlace[], backends: readonly Backend[]): { kinds: string; elements: Element[] } {
  let kinds = "";
  const elements: Element[] = [];
  for (const place of places) {
    const taken: { addr: string; lo: number; hi: number }[] = [];
    for (const b of backends) {
      const addr = b["ip-addr"];
      // A backend without a port keeps the destination port: its replies come from the virtual one.
      const ports = place.ports === null ? null : b.port === null ? place.ports : String(b.port);
      const [lo, hi] = ports === null ? [0, 65535] : span(ports);
      if (taken.some((t) => t.addr === addr && t.lo <= hi && lo <= t.hi)) continue;
      taken.push({ addr, lo, hi });
      const key = place.ports === null ? `${vip} . ${addr}` : `${vip} . ${protocol} . ${place.ports} . ${addr} . ${ports}`;
      kinds += place.kind;
      elements.push(Object.freeze([flat(key), flat(backendTrafficCounterName(farm, b.name))]) as Element);
    }
  }
  return { kinds, elements: exact(elements) };
}

type MapKind = "ports" | "ranges" | "proto" | "addr";
const KIND: Record<PlaceKind, MapKind> = { p: "ports", r: "ranges", x: "proto", a: "addr" };

const WORD: Record<Ip, { word: "ip" | "ip6"; addr: string }> = { 4: { word: "ip", addr: "ipv4_addr" }, 6: { word: "ip6", addr: "ipv6_addr" } };

/**
 * The traffic maps of one address family, one per service map: exact ports (a hash), port
 * ranges and every port (intervals, kept apart: a farm on every port may share its address and
 * backend with a farm on a range, and their keys would overlap), and every protocol (no ports).
 */
export class TrafficMaps {
  readonly ports: IrMap;
  readonly ranges: IrMap;
  readonly proto: IrMap;
  readonly addr: IrMap;

  constructor(readonly ip: Ip) {
    const a = WORD[ip].addr;
    const key = `${a} . inet_proto . inet_service . ${a} . inet_service`;
    this.ports = { name: `traffic${ip}-ports`, key, interval: false, value: "counted", elements: [] };
    this.ranges = { name: `traffic${ip}-ranges`, key, interval: true, value: "counted", elements: [] };
    this.proto = { name: `traffic${ip}-proto`, key, interval: true, value: "counted", elements: [] };
    this.addr = { name: `traffic${ip}-addr`, key: `${a} . ${a}`, interval: false, value: "counted", elements: [] };
  }

  add(kinds: string, elements: readonly Element[]): void {
    elements.forEach((element, i) => this[KIND[kinds[i] as PlaceKind]].elements.push(element));
  }

  get all(): IrMap[] {
    return [this.ports, this.ranges, this.proto, this.addr];
  }

  /**
   * Lookups in the service maps' order, each ending the chain when it counts: a connection is
   * counted once, at the most specific place, where the farm chain that balanced it was found.
   */
  lookups(): string[] {
    const w = WORD[this.ip].word;
    const ports = `ct original ${w} daddr . ct original protocol . ct original proto-dst . ct reply ${w} saddr . ct reply proto-src`;
    const rules: string[] = [];
    for (const map of [this.ports, this.ranges, this.proto]) {
      for (const protocol of PORT_PROTOCOLS) rules.push(`meta l4proto ${protocol} ${ports} @${map.name} accept`);
    }
    rules.push(`ct original ${w} daddr . ct reply ${w} saddr @${this.addr.name} accept`);
    return rules;
  }
}

/**
 * The forward chain that counts: connections that no dnat balanced are let go at once
 * (one test of the conntrack status); the others are looked up family by family (a `ct …
 * ip daddr` of an IPv6 connection does not match).
 */
export function trafficChain(v4: TrafficMaps, v6: TrafficMaps): IrChain {
  return {
    name: "traffic",
    hook: { type: "filter", hook: "forward", priority: FORWARD_FILTER_PRIORITY },
    rules: ["ct status and dnat == 0 accept", ...v4.lookups(), ...v6.lookups()],
  };
}
