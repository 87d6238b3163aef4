import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type Lab } from "@switchyard/netlab";
import { backendAddrs, mustApply } from "../testing/agent-in-lab.ts";

// snat, dnat and dsr proven by what the backends see and by which way the replies travel.
const VIP = "198.18.1.100";
const VIP6 = "2001:db8:1::100";

let lab: Lab;

beforeAll(async () => {
  lab = await createLab({ backends: 2, directReturn: true });
  for (const backend of lab.backends) {
    // dsr backends hold the virtual addresses themselves and answer from them.
    await lab.addAddress(backend, `${VIP}/32`, "lo");
    await lab.addAddress(backend, `${VIP6}/128`, "lo");
  }
  await lab.startServers({ tcpPorts: [80, 8080], udpPorts: [53] });
});
afterAll(async () => {
  await lab?.destroy();
});

function natFarm(mode: "snat" | "dnat") {
  return {
    farms: [
      {
        name: "web",
        "virtual-addr": VIP,
        "virtual-ports": "80",
        mode,
        backends: backendAddrs(lab).map((addr, i) => ({ name: `b${i + 1}`, "ip-addr": addr, port: "8080" })),
      },
    ],
  };
}

/** A counter table of the test's own in the balancer namespace: which packets crossed it. */
async function installProbe(): Promise<void> {
  const { clientIface, backendIface } = lab.balancer;
  const script = `table netdev probe
delete table netdev probe
table netdev probe {
  counter to-vip {}
  counter from-vip {}
  chain from-client {
    type filter hook ingress device "${clientIface}" priority -500; policy accept;
    ip daddr ${VIP} counter name to-vip
  }
  chain from-backends {
    type filter hook ingress device "${backendIface}" priority -500; policy accept;
    ip saddr ${VIP} counter name from-vip
  }
}
`;
  const run = await lab.exec(lab.balancer.ns, ["nft", "-f", "-"], { input: script });
  if (run.code !== 0) throw new Error(run.stderr);
}

async function probeCount(name: string): Promise<number> {
  const run = await lab.exec(lab.balancer.ns, ["nft", "-j", "list", "counter", "netdev", "probe", name]);
  const doc = JSON.parse(run.stdout) as { nftables: { counter?: { packets: number } }[] };
  return doc.nftables.find((o) => o.counter)?.counter?.packets ?? -1;
}

describe("topologies", () => {
  it("snat: backends see the balancer's address", async () => {
    await mustApply(lab, natFarm("snat"));
    const tally = await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 10 });
    expect(tally.failed).toBe(0);
    expect(tally.seenSources).toEqual({ [lab.balancer.backendIpv4]: 10 });
  });

  it("dnat: backends see the client's address and reply through the balancer", async () => {
    await mustApply(lab, natFarm("dnat"));
    await installProbe();
    const tally = await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 10 });
    expect(tally.failed).toBe(0);
    expect(tally.seenSources).toEqual({ [lab.client.ipv4[0] ?? ""]: 10 });
    // The replies come back through the balancer, from the backend's own address (un-NATed there).
    const route = await lab.exec(lab.backends[0]?.ns ?? "", ["ip", "route", "get", lab.client.ipv4[0] ?? ""]);
    expect(route.stdout).toContain("via");
  });

  it("dsr: backends see the client's address and answer it directly, not through the balancer", async () => {
    await mustApply(lab, {
      farms: [
        {
          name: "web",
          "virtual-addr": VIP,
          "virtual-ports": "80",
          mode: "dsr",
          scheduler: "hash",
          iface: lab.balancer.clientIface,
          oface: lab.balancer.backendIface,
          // No MACs given: the agent resolves them from the balancer's neighbour table.
          backends: backendAddrs(lab).map((addr, i) => ({ name: `b${i + 1}`, "ip-addr": addr })),
        },
      ],
    });
    await installProbe();
    const sources = lab.client.ipv4;
    const tally = await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 20, sources });
    expect(tally.failed).toBe(0);
    expect(Object.keys(tally.seenSources)).toEqual([lab.client.ipv4[0]]);
    // Every request crossed the balancer; not one reply did.
    expect(await probeCount("to-vip")).toBeGreaterThanOrEqual(20 * 3);
    expect(await probeCount("from-vip")).toBe(0);
  });

  it("dsr over IPv6", async () => {
    await mustApply(lab, {
      farms: [
        {
          name: "web6",
          family: "ipv6",
          "virtual-addr": VIP6,
          "virtual-ports": "80",
          mode: "dsr",
          scheduler: "symhash",
          iface: lab.balancer.clientIface,
          oface: lab.balancer.backendIface,
          backends: backendAddrs(lab, 6).map((addr, i) => ({ name: `b${i + 1}`, "ip-addr": addr })),
        },
      ],
    });
    const tally = await lab.connect({ target: VIP6, port: 80, proto: "tcp", count: 10 });
    expect(tally.failed).toBe(0);
    expect(Object.keys(tally.seenSources)).toEqual([lab.client.ipv6[0]]);
  });
});
