import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type Lab } from "@switchyard/netlab";
import { backendAddrs, listRuleset, mustApply } from "../testing/agent-in-lab.ts";

// IPv4, IPv6, dual; tcp, udp, sctp, all; multiport.
const VIP = "198.18.1.100";
const VIP6 = "2001:db8:1::100";
const PORTS = [80, 443, 8000, 8001, 8002];

let lab: Lab;

beforeAll(async () => {
  lab = await createLab({ backends: 2 });
  await lab.startServers({ tcpPorts: [...PORTS, 81, 8003, 9000], udpPorts: [53, 9000] });
});
afterAll(async () => {
  await lab?.destroy();
});

const backends = (family: 4 | 6, port = "") => backendAddrs(lab, family).map((addr, i) => ({ name: `b${i + 1}-v${family}`, "ip-addr": addr, port }));

describe("address families and protocols", () => {
  it.each(["tcp", "udp"] as const)("IPv6 %s farm balances over IPv6 backends", async (proto) => {
    await mustApply(lab, {
      farms: [{ name: "six", family: "ipv6", "virtual-addr": VIP6, "virtual-ports": "9000", protocol: proto, backends: backends(6) }],
    });
    const tally = await lab.connect({ target: VIP6, port: 9000, proto, count: 10 });
    expect(tally.failed).toBe(0);
    expect(tally.byBackend).toEqual({ b1: 5, b2: 5 });
    expect(Object.keys(tally.seenSources)).toEqual([lab.balancer.backendIpv6]);
  });

  it("a dual farm answers on its IPv4 and IPv6 addresses, each with backends of its family", async () => {
    await mustApply(lab, {
      farms: [{ name: "both", family: "dual", "virtual-addr": VIP, "virtual-addr6": VIP6, "virtual-ports": "9000", mode: "dnat", backends: [...backends(4), ...backends(6)] }],
    });
    const v4 = await lab.connect({ target: VIP, port: 9000, proto: "tcp", count: 10 });
    const v6 = await lab.connect({ target: VIP6, port: 9000, proto: "tcp", count: 10 });
    expect(v4.failed + v6.failed).toBe(0);
    expect(Object.keys(v4.seenSources)).toEqual([lab.client.ipv4[0]]);
    expect(Object.keys(v6.seenSources)).toEqual([lab.client.ipv6[0]]);
    expect(v4.byBackend).toEqual({ b1: 5, b2: 5 });
    expect(v6.byBackend).toEqual({ b1: 5, b2: 5 });
  });

  it("udp farm with backend port translation", async () => {
    await mustApply(lab, {
      farms: [{ name: "dns", "virtual-addr": VIP, "virtual-ports": "5353", protocol: "udp", backends: backends(4, "53") }],
    });
    const tally = await lab.connect({ target: VIP, port: 5353, proto: "udp", count: 10 });
    expect(tally.failed).toBe(0);
    expect(tally.byBackend).toEqual({ b1: 5, b2: 5 });
  });

  it("multiport: every listed port and range works, an unlisted port does not", async () => {
    await mustApply(lab, {
      farms: [{ name: "multi", "virtual-addr": VIP, "virtual-ports": "80,443,8000-8002", backends: backends(4) }],
    });
    for (const port of PORTS) {
      const tally = await lab.connect({ target: VIP, port, proto: "tcp", count: 4 });
      expect([port, tally.failed, tally.byBackend]).toEqual([port, 0, { b1: 2, b2: 2 }]);
    }
    for (const port of [81, 8003]) {
      const tally = await lab.connect({ target: VIP, port, proto: "tcp", count: 2, timeoutMs: 500 });
      expect([port, tally.byBackend]).toEqual([port, {}]);
    }
  });

  it("protocol all takes every protocol and port of the address", async () => {
    await mustApply(lab, { farms: [{ name: "all", "virtual-addr": VIP, protocol: "all", backends: backends(4) }] });
    const tcp = await lab.connect({ target: VIP, port: 8001, proto: "tcp", count: 4 });
    const udp = await lab.connect({ target: VIP, port: 53, proto: "udp", count: 4 });
    expect(tcp.byBackend).toEqual({ b1: 2, b2: 2 });
    expect(udp.byBackend).toEqual({ b1: 2, b2: 2 });
  });

  it("a farm on one port wins over a farm on every port of the same address", async () => {
    await mustApply(lab, {
      farms: [
        { name: "every", "virtual-addr": VIP, "virtual-ports": "", backends: [backends(4)[0]] },
        { name: "one", "virtual-addr": VIP, "virtual-ports": "443", backends: [backends(4)[1]] },
      ],
    });
    expect((await lab.connect({ target: VIP, port: 443, proto: "tcp", count: 3 })).byBackend).toEqual({ b2: 3 });
    expect((await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 3 })).byBackend).toEqual({ b1: 3 });
  });

  // This kernel has no SCTP sockets, so no sctp connection can be made: prove the farm
  // renders, passes nft --check and loads for real.
  it("sctp farm renders, checks and applies (no SCTP sockets on this kernel: no traffic)", async () => {
    await mustApply(lab, {
      farms: [{ name: "sig", "virtual-addr": VIP, "virtual-ports": "2905,3868", protocol: "sctp", scheduler: "weight", backends: backends(4, "3868") }],
    });
    const ruleset = await listRuleset(lab);
    expect(ruleset).toContain(`sctp . ${VIP} . 2905 : goto farm-sig-4`);
    expect(ruleset).toContain(`sctp . ${VIP} . 3868 : goto farm-sig-4`);
    expect(ruleset).toMatch(/meta l4proto sctp counter name "c\/sig\/b1-v4" dnat ip to 198\.18\.2\.11:3868/);
  });
});
