import { describe, expect, it } from "vitest";
import { base32, endpointProbabilities, endpointShares, renderKubeProxyRules, svcChain } from "./kube-proxy.ts";
import { MEASURED_VIP, planServices } from "./plan.ts";

const BACKENDS = ["198.18.2.11", "198.18.2.12", "198.18.2.13", "198.18.2.14"];
const CIDR = "198.18.2.0/24";

describe("endpointProbabilities", () => {
  it("gives every endpoint an equal share", () => {
    for (let n = 1; n <= 20; n++) {
      const shares = endpointShares(endpointProbabilities(n));
      expect(shares).toHaveLength(n);
      for (const share of shares) expect(share).toBeCloseTo(1 / n, 9);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it("prints kube-proxy's %0.10f and leaves the last endpoint unconditional", () => {
    expect(endpointProbabilities(1)).toEqual([null]);
    expect(endpointProbabilities(4)).toEqual(["0.2500000000", "0.3333333333", "0.5000000000", null]);
  });
});

describe("chain names", () => {
  it("hash like kube-proxy (base32 of sha256, 16 characters)", () => {
    // The chain every cluster has for default/kubernetes:https.
    expect(svcChain("default/kubernetes:https")).toBe("KUBE-SVC-NPX46M4PTMTKRN6Y");
    expect(base32(new TextEncoder().encode("foobar"))).toBe("MZXW6YTBOI");
  });
});

describe("renderKubeProxyRules", () => {
  it("writes one KUBE-SERVICES rule per service with the measured service last", () => {
    const rules = renderKubeProxyRules(planServices(1000, BACKENDS), { clusterCidr: CIDR });
    const lines = rules.text.split("\n");
    const services = lines.filter((l) => l.startsWith("-A KUBE-SERVICES "));
    // 1000 services and kube-proxy's closing nodeports rule.
    expect(services).toHaveLength(1001);
    expect(services[999]).toContain(`-d ${MEASURED_VIP}/32 -p tcp`);
    expect(services[1000]).toContain("--dst-type LOCAL -j KUBE-NODEPORTS");
    expect(rules.scanLength).toBe(1000);
  });

  it("has the right number of rules and chains", () => {
    for (const [n, e] of [
      [1, 1],
      [1, 4],
      [10, 1],
      [10, 4],
    ] as const) {
      const rules = renderKubeProxyRules(planServices(n, BACKENDS.slice(0, e)), { clusterCidr: CIDR });
      const lines = rules.text.split("\n");
      const appends = lines.filter((l) => l.startsWith("-A "));
      const chains = lines.filter((l) => /^:\S+ - \[0:0\]$/.test(l));
      // 7 fixed rules + the nodeports rule; per service: its KUBE-SERVICES rule, the masquerade
      // mark, a jump per endpoint, and two rules per endpoint chain.
      expect(appends).toHaveLength(8 + n * (2 + 3 * e));
      expect(rules.rules).toBe(appends.length);
      // KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ; a chain per service and per endpoint.
      expect(chains).toHaveLength(4 + n * (1 + e));
      expect(rules.chains).toBe(chains.length);
      expect(new Set(chains).size).toBe(chains.length);
    }
  });

  it("splits each service over its endpoints with statistic jumps, then DNATs and masquerades", () => {
    const rules = renderKubeProxyRules(planServices(1, BACKENDS), { clusterCidr: CIDR });
    const svc = svcChain("bench/measured:http");
    const jumps = rules.text.split("\n").filter((l) => l.startsWith(`-A ${svc} `) && l.includes("-j KUBE-SEP-"));
    expect(jumps.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? null)).toEqual(["0.2500000000", "0.3333333333", "0.5000000000", null]);
    expect(rules.text).toContain(`-A ${svc} ! -s ${CIDR} -d ${MEASURED_VIP}/32 -p tcp`);
    for (const b of BACKENDS) expect(rules.text).toContain(`-j DNAT --to-destination ${b}:80`);
    expect(rules.text).toContain("-j MASQUERADE --random-fully");
    expect(rules.text.startsWith("*nat\n")).toBe(true);
    expect(rules.text.endsWith("COMMIT\n")).toBe(true);
  });

  it("every chain used is declared, and every chain declared is used", () => {
    const rules = renderKubeProxyRules(planServices(5, BACKENDS), { clusterCidr: CIDR, comments: false });
    const lines = rules.text.split("\n");
    const builtin = new Set(["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]);
    const declared = new Set(lines.filter((l) => l.startsWith(":")).map((l) => l.slice(1).split(" ")[0]));
    const targets = new Set(lines.flatMap((l) => [...l.matchAll(/-j (KUBE-[A-Z0-9-]+)/g)].map((m) => m[1])));
    for (const t of targets) expect(declared.has(t)).toBe(true);
    for (const d of declared) if (!builtin.has(d as string) && d !== "KUBE-SERVICES") expect(targets.has(d)).toBe(true);
    expect(rules.text).not.toContain("--comment");
  });
});
