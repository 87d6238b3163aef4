import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type Lab } from "@switchyard/netlab";
import { backendAddrs, mustApply } from "../testing/agent-in-lab.ts";

// Real connections from the client namespace to the virtual address, counted per backend.
const VIP = "198.18.1.100";
const PORT = 80;
const BACKEND_PORT = 8080;

let lab: Lab;

beforeAll(async () => {
  lab = await createLab({ backends: 3, clientAddresses: 16 });
  await lab.startServers({ tcpPorts: [BACKEND_PORT, 7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007], udpPorts: [BACKEND_PORT, 5000, 7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007] });
});
afterAll(async () => {
  await lab?.destroy();
});

function farm(overrides: Record<string, unknown>, backends: Record<string, unknown>[] = []) {
  const addrs = backendAddrs(lab);
  const defaults = addrs.map((addr, i) => ({ name: `b${i + 1}`, "ip-addr": addr, port: String(BACKEND_PORT) }));
  return {
    farms: [
      {
        name: "web",
        "virtual-addr": VIP,
        "virtual-ports": String(PORT),
        ...overrides,
        backends: defaults.map((b, i) => ({ ...b, ...(backends[i] ?? {}) })),
      },
    ],
  };
}

describe("schedulers", () => {
  it("rr spreads K connections exactly evenly", async () => {
    await mustApply(lab, farm({ scheduler: "rr" }));
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 60 });
    expect(tally.failed).toBe(0);
    expect(tally.byBackend).toEqual({ b1: 20, b2: 20, b3: 20 });
  });

  it("weight gives shares within 5 points of the weights over 2,000 connections", async () => {
    await mustApply(lab, farm({ scheduler: "weight" }, [{ weight: "5" }, { weight: "3" }, { weight: "2" }]));
    const count = 2000;
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count, concurrency: 32 });
    expect(tally.failed).toBe(0);
    const share = (name: string) => ((tally.byBackend[name] ?? 0) / count) * 100;
    expect(Math.abs(share("b1") - 50)).toBeLessThanOrEqual(5);
    expect(Math.abs(share("b2") - 30)).toBeLessThanOrEqual(5);
    expect(Math.abs(share("b3") - 20)).toBeLessThanOrEqual(5);
  });

  it("hash keeps every client on one backend and spreads different clients", async () => {
    await mustApply(lab, farm({ scheduler: "hash", "sched-param": "srcip" }));
    const sources = lab.client.ipv4;
    expect(sources.length).toBe(16);
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: sources.length * 6, sources });
    expect(tally.failed).toBe(0);
    const backendOf = new Map<string, Set<string>>();
    for (const r of tally.results) {
      const seen = backendOf.get(r.source) ?? new Set<string>();
      seen.add(r.backend ?? "none");
      backendOf.set(r.source, seen);
    }
    expect(backendOf.size).toBe(16);
    for (const [source, backends] of backendOf) expect([source, [...backends]]).toEqual([source, [expect.any(String)]]);
    const used = new Set([...backendOf.values()].map((s) => [...s][0]));
    expect(used.size).toBeGreaterThanOrEqual(2);
  });

  it("hash on srcip srcport moves one client's connections across backends", async () => {
    await mustApply(lab, farm({ scheduler: "hash", "sched-param": "srcip srcport" }));
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 60, sources: [lab.client.ipv4[0] ?? ""] });
    expect(tally.failed).toBe(0);
    expect(Object.keys(tally.byBackend).length).toBeGreaterThanOrEqual(2);
  });

  it("symhash sends both directions of a flow to the same backend", async () => {
    // Flow A: client C:S -> VIP:5000. Flow B is its mirror: a peer holding VIP sends
    // VIP:5000 -> C:S, balanced by a second farm on the client's address. With a symmetric
    // hash and the same backends, both flows must pick the same backend for every S.
    const client = lab.client.ipv4[0] ?? "";
    const peer = await lab.addPeer("peer", [VIP], []);
    const addrs = backendAddrs(lab);
    const backends = (port: string) => addrs.map((addr, i) => ({ name: `b${i + 1}`, "ip-addr": addr, port }));
    await mustApply(lab, {
      farms: [
        { name: "forward", "virtual-addr": VIP, "virtual-ports": "5000", protocol: "udp", mode: "dnat", scheduler: "symhash", backends: backends("5000") },
        { name: "mirror", "virtual-addr": client, "virtual-ports": "", protocol: "udp", mode: "dnat", scheduler: "symhash", backends: backends("") },
      ],
    });
    const pairs: [string | null, string | null][] = [];
    for (let s = 7000; s <= 7007; s++) {
      const a = await lab.connect({ target: VIP, port: 5000, proto: "udp", count: 1, sources: [client], sourcePort: s });
      const b = await lab.connect({ from: peer, target: client, port: s, proto: "udp", count: 1, sources: [VIP], sourcePort: 5000 });
      pairs.push([a.results[0]?.backend ?? null, b.results[0]?.backend ?? null]);
    }
    for (const [a, b] of pairs) {
      expect(a).not.toBeNull();
      expect(b).toBe(a);
    }
    expect(new Set(pairs.map(([a]) => a)).size).toBeGreaterThanOrEqual(2);
  });
});

describe("priorities and states", () => {
  it("only the lowest priority group with an up backend takes traffic", async () => {
    await mustApply(lab, farm({ scheduler: "rr" }, [{ priority: "1" }, { priority: "1" }, { priority: "2" }]));
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 40 });
    expect(tally.byBackend).toEqual({ b1: 20, b2: 20 });
  });

  it("the next priority group takes over when the first is all down", async () => {
    await mustApply(lab, farm({ scheduler: "rr" }, [{ priority: "1", state: "down" }, { priority: "1", state: "off" }, { priority: "2" }]));
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 20 });
    expect(tally.byBackend).toEqual({ b3: 20 });
  });

  it("a down or off backend gets no new connection", async () => {
    await mustApply(lab, farm({ scheduler: "rr" }, [{ state: "down" }, {}, { state: "off" }]));
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 30 });
    expect(tally.byBackend).toEqual({ b2: 30 });
  });

  it.each(["down", "off"])("a farm in state %s takes no connection", async (state) => {
    await mustApply(lab, farm({ scheduler: "rr", state }));
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 5, timeoutMs: 500 });
    expect(tally.byBackend).toEqual({});
    expect(tally.failed).toBe(5);
  });

  it("a farm whose backends are all down drops new connections", async () => {
    await mustApply(lab, farm({ scheduler: "rr" }, [{ state: "down" }, { state: "down" }, { state: "off" }]));
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 5, timeoutMs: 500 });
    expect(tally.byBackend).toEqual({});
    expect(tally.failed).toBe(5);
  });
});
