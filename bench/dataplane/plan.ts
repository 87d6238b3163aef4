// The services every variant configures: N services, the measured one LAST (the worst place
// for a linear scan such as iptables' KUBE-SERVICES chain). Pure: no I/O.

/** The measured service: a VIP in 198.18.1.0/24, which the lab's client routes to the balancer. */
export const MEASURED_VIP = "198.18.1.100";
export const SERVICE_PORT = 80;

/**
 * Variants (a) and (b) have no balancer: every backend holds this address (on lo) and the
 * balancer routes it with one ECMP nexthop per backend, hashed on the 4-tuple, so that the
 * connections spread over the backends as a balancer spreads them, without conntrack or NAT.
 */
export const ANYCAST_ADDR = "198.18.3.1";

/** Filler services take one address each from 198.18.128.0/17 (never reached by traffic). */
const FILLER_BASE = (198 << 24) | (18 << 16) | (128 << 8);
export const MAX_SERVICES = 32_000;

export interface Endpoint {
  addr: string;
  port: number;
}

export interface Service {
  /** A short name usable in nft chain names and nftlb farm names. */
  name: string;
  vip: string;
  port: number;
  endpoints: Endpoint[];
}

const v4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** The VIP of filler service i (0-based): 198.18.128.1, 198.18.128.2, ... inside 198.18.128.0/17. */
export function fillerVip(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_SERVICES) throw new Error(`filler service index ${i} out of range`);
  return v4(FILLER_BASE + 1 + i);
}

/**
 * `count` services, all with the same endpoints (the lab's backends), distinct VIPs, and the
 * measured one (MEASURED_VIP:SERVICE_PORT) last.
 */
export function planServices(count: number, backendAddrs: readonly string[], port = SERVICE_PORT): Service[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SERVICES) throw new Error(`services must be 1..${MAX_SERVICES}, got ${count}`);
  if (backendAddrs.length === 0) throw new Error("a service needs at least one backend");
  const endpoints = backendAddrs.map((addr) => ({ addr, port }));
  const width = String(count).length;
  const services: Service[] = [];
  for (let i = 0; i < count - 1; i++) {
    services.push({ name: `svc${String(i).padStart(width, "0")}`, vip: fillerVip(i), port, endpoints });
  }
  services.push({ name: "measured", vip: MEASURED_VIP, port, endpoints });
  return services;
}
