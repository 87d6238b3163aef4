import { createHash } from "node:crypto";
import type { Service } from "./plan.ts";

// The kube-proxy baseline: the nat table that kube-proxy's iptables mode writes for ClusterIP
// services (Kubernetes 1.2x shapes), in iptables-restore format. Pure: no I/O.
//
//   PREROUTING -> KUBE-SERVICES: one `-d VIP -p tcp --dport P -j KUBE-SVC-x` rule per service,
//                 scanned in order (so the last service pays for every rule before it);
//   KUBE-SVC-x:  masquerade mark for traffic from outside the cluster CIDR, then one
//                `-m statistic --mode random --probability 1/(n-i)` jump per endpoint
//                (the last one unconditional) to
//   KUBE-SEP-y:  hairpin masquerade mark, then `DNAT --to-destination EP:PORT`;
//   POSTROUTING -> KUBE-POSTROUTING: MASQUERADE what carries mark 0x4000.

export const MASQ_MARK = "0x4000";

export interface KubeProxyOptions {
  /** The "pod" network: traffic from outside it is masqueraded (kube-proxy's --cluster-cidr). */
  clusterCidr: string;
  /** kube-proxy writes `-m comment` on every rule; large clusters can leave some out. */
  comments?: boolean;
}

export interface KubeProxyRules {
  /** iptables-restore input for the nat table (feeds iptables-restore or iptables-legacy-restore). */
  text: string;
  /** `-A` lines. */
  rules: number;
  /** User-defined chains (`:NAME - [0:0]`). */
  chains: number;
  /** Rules in KUBE-SERVICES that a new connection to the last service walks through (its own included). */
  scanLength: number;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding, as Go's base32.StdEncoding (kube-proxy trims to 16 chars). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** kube-proxy's chain-name hash: base32(sha256(text)) cut to 16 characters. */
export function chainHash(text: string): string {
  return base32(createHash("sha256").update(text).digest()).slice(0, 16);
}

export const svcChain = (servicePortName: string) => `KUBE-SVC-${chainHash(`${servicePortName}tcp`)}`;
export const sepChain = (servicePortName: string, endpoint: string) => `KUBE-SEP-${chainHash(`${servicePortName}tcp${endpoint}`)}`;

/**
 * The `--probability` of each endpoint's jump as kube-proxy prints it (`%0.10f` of 1/(n-i)):
 * endpoint i is tried only when the i before it were not taken, so every endpoint gets 1/n.
 * The last endpoint has no statistic match (null).
 */
export function endpointProbabilities(n: number): (string | null)[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`endpoint count must be a positive integer, got ${n}`);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? null : (1 / (n - i)).toFixed(10)));
}

/** The share of new connections each endpoint receives under those probabilities. */
export function endpointShares(probabilities: readonly (string | null)[]): number[] {
  let notTakenYet = 1;
  return probabilities.map((p) => {
    const take = p === null ? 1 : Number(p);
    const share = notTakenYet * take;
    notTakenYet *= 1 - take;
    return share;
  });
}

export function renderKubeProxyRules(services: readonly Service[], options: KubeProxyOptions): KubeProxyRules {
  const comments = options.comments ?? true;
  const comment = (text: string) => (comments ? ` -m comment --comment "${text}"` : "");
  const chains: string[] = ["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"];
  const rules: string[] = [
    `-A PREROUTING${comment("kubernetes service portals")} -j KUBE-SERVICES`,
    `-A OUTPUT${comment("kubernetes service portals")} -j KUBE-SERVICES`,
    `-A POSTROUTING${comment("kubernetes postrouting rules")} -j KUBE-POSTROUTING`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    `-A KUBE-POSTROUTING${comment("kubernetes service traffic requiring SNAT")} -j MASQUERADE --random-fully`,
  ];
  const servicesRules: string[] = [];
  const serviceChains: string[] = [];
  const seen = new Set<string>();
  for (const service of services) {
    const portName = `bench/${service.name}:http`;
    const svc = svcChain(portName);
    if (seen.has(svc)) throw new Error(`two services named ${service.name}`);
    seen.add(svc);
    const match = `-d ${service.vip}/32 -p tcp${comment(`${portName} cluster IP`)} -m tcp --dport ${service.port}`;
    servicesRules.push(`-A KUBE-SERVICES ${match} -j ${svc}`);
    serviceChains.push(svc);
    rules.push(`-A ${svc} ! -s ${options.clusterCidr} ${match} -j KUBE-MARK-MASQ`);
    const probabilities = endpointProbabilities(service.endpoints.length);
    service.endpoints.forEach((ep, i) => {
      const target = `${ep.addr}:${ep.port}`;
      const sep = sepChain(portName, target);
      serviceChains.push(sep);
      const p = probabilities[i];
      const statistic = p === null || p === undefined ? "" : ` -m statistic --mode random --probability ${p}`;
      rules.push(`-A ${svc}${comment(`${portName} -> ${target}`)}${statistic} -j ${sep}`);
      rules.push(`-A ${sep} -s ${ep.addr}/32${comment(portName)} -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p tcp${comment(portName)} -m tcp -j DNAT --to-destination ${target}`);
    });
  }
  servicesRules.push(
    `-A KUBE-SERVICES${comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain")} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
  );
  const allChains = [...chains, ...serviceChains];
  const allRules = [...rules, ...servicesRules];
  const text = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ...allChains.map((c) => `:${c} - [0:0]`),
    ...allRules,
    "COMMIT",
    "",
  ].join("\n");
  return { text, rules: allRules.length, chains: allChains.length, scanLength: services.length };
}

/** Empties the nat table again (every chain flushed, user chains deleted). */
export const KUBE_PROXY_FLUSH = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", "COMMIT", ""].join("\n");
