import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createLab, listStaleNamespaces, withLab, type Lab } from "./index.ts";

const namespaces = () =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("a routed lab with two backends", () => {
  let lab: Lab;
  const serverPids: number[] = [];

  beforeAll(async () => {
    lab = await createLab({ backends: 2, clientAddresses: 2 });
    await lab.startServers({ tcpPorts: [80, 8080], udpPorts: [53] });
    for (const b of lab.backends) {
      serverPids.push(...execFileSync("ip", ["netns", "pids", b.ns], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number));
    }
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("has the fixed plan under a random prefix", () => {
    expect(lab.prefix).toMatch(/^sy-[0-9a-f]{6}$/);
    expect(lab.client).toMatchObject({ ns: `${lab.prefix}-c`, ipv4: ["198.18.0.2", "198.18.0.3"], ipv6: ["2001:db8::2", "2001:db8::3"], iface: "eth0" });
    expect(lab.balancer).toMatchObject({ ns: `${lab.prefix}-lb`, clientIface: "eth-c", backendIface: "eth-b", backendIpv4: "198.18.2.1", backendIpv6: "2001:db8:2::1" });
    expect(lab.backends.map((b) => [b.name, b.ns, b.ipv4[0], b.ipv6[0], b.mac])).toEqual([
      ["b1", `${lab.prefix}-b1`, "198.18.2.11", "2001:db8:2::11", "02:00:00:00:02:01"],
      ["b2", `${lab.prefix}-b2`, "198.18.2.12", "2001:db8:2::12", "02:00:00:00:02:02"],
    ]);
    expect(namespaces().filter((n) => n.startsWith(`${lab.prefix}-`)).sort()).toEqual(["b1", "b2", "c", "lb", "sw"].map((s) => `${lab.prefix}-${s}`));
  });

  it("sets the sysctls and MACs", async () => {
    const get = async (ns: string, key: string) => (await lab.exec(ns, ["sysctl", "-n", key])).stdout.trim();
    expect(await get(lab.balancer.ns, "net.ipv4.ip_forward")).toBe("1");
    expect(await get(lab.balancer.ns, "net.ipv6.conf.all.forwarding")).toBe("1");
    expect(await get(lab.balancer.ns, "net.ipv4.conf.eth-b.rp_filter")).toBe("0");
    expect(await get(lab.client.ns, "net.ipv4.conf.all.rp_filter")).toBe("0");
    expect(await get(lab.backends[0]?.ns ?? "", "net.ipv4.tcp_max_tw_buckets")).toBe("0");
    const link = await lab.exec(lab.balancer.ns, ["ip", "-j", "link", "show", "eth-b"]);
    expect((JSON.parse(link.stdout) as { address: string }[])[0]?.address).toBe(lab.balancer.backendMac);
    expect((await lab.exec(lab.client.ns, ["ip", "-6", "addr", "show", "tentative"])).stdout).toBe("");
  });

  it.each([
    ["tcp", "198.18.2.11", 80, "b1", "198.18.0.2"],
    ["udp", "198.18.2.12", 53, "b2", "198.18.0.2"],
    ["tcp", "2001:db8:2::12", 8080, "b2", "2001:db8::2"],
    ["udp", "2001:db8:2::11", 53, "b1", "2001:db8::2"],
  ] as const)("%s to %s:%i goes through the routing balancer, un-NATed", async (proto, target, port, backend, client) => {
    const tally = await lab.connect({ target, port, proto, count: 8, concurrency: 4 });
    expect(tally.failed).toBe(0);
    expect(tally.byBackend).toEqual({ [backend]: 8 });
    expect(tally.seenSources).toEqual({ [client]: 8 });
    expect(tally.results).toHaveLength(8);
    expect(tally.results[0]).toEqual({ source: client, backend, seen: client });
    const route = await lab.exec(lab.client.ns, ["ip", "route", "get", target]);
    expect(route.stdout).toContain(`via ${target.includes(":") ? "2001:db8::1" : "198.18.0.1"}`);
  });

  it("binds the given sources round-robin, and a source port again and again", async () => {
    const one = await lab.connect({ target: "198.18.2.11", port: 80, proto: "tcp", count: 3, sources: ["198.18.0.3"] });
    expect(one.seenSources).toEqual({ "198.18.0.3": 3 });
    const both = await lab.connect({ target: "198.18.2.12", port: 53, proto: "udp", count: 4, sources: lab.client.ipv4 });
    expect(both.seenSources).toEqual({ "198.18.0.2": 2, "198.18.0.3": 2 });
    expect(both.results.map((r) => r.source)).toEqual(["198.18.0.2", "198.18.0.3", "198.18.0.2", "198.18.0.3"]);
    const v6 = await lab.connect({ target: "2001:db8:2::11", port: 80, proto: "tcp", count: 2, sources: ["2001:db8::3"] });
    expect(v6.seenSources).toEqual({ "2001:db8::3": 2 });
    for (let i = 0; i < 3; i++) {
      for (const proto of ["tcp", "udp"] as const) {
        const t = await lab.connect({ target: "198.18.2.11", port: proto === "tcp" ? 80 : 53, proto, count: 1, sourcePort: 40000 });
        expect(t.failed).toBe(0);
      }
    }
  });

  it("reports a closed port as failures, at once", async () => {
    const started = Date.now();
    const tcp = await lab.connect({ target: "198.18.2.11", port: 81, proto: "tcp", count: 5, timeoutMs: 500, deadlineMs: 3000 });
    const udp = await lab.connect({ target: "2001:db8:2::11", port: 54, proto: "udp", count: 5, timeoutMs: 500, deadlineMs: 3000 });
    expect(tcp.failed).toBe(5);
    expect(udp.failed).toBe(5);
    expect(tcp.byBackend).toEqual({});
    expect(tcp.results[0]?.error).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("stops at the deadline when nothing answers", async () => {
    const blackhole = await lab.exec(lab.balancer.ns, ["ip", "route", "add", "blackhole", "198.18.1.99/32"]);
    expect(blackhole.code).toBe(0);
    const started = Date.now();
    const tally = await lab.connect({ target: "198.18.1.99", port: 80, proto: "tcp", count: 50, concurrency: 2, timeoutMs: 1000, deadlineMs: 1500 });
    const elapsed = Date.now() - started;
    expect(tally.failed).toBe(50);
    expect(tally.results).toHaveLength(50);
    expect(new Set(tally.results.map((r) => r.error))).toEqual(new Set(["timeout", "deadline"]));
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(4000);
  });

  it("execs without a shell, with input and a timeout, only in its own namespaces", async () => {
    expect(await lab.exec(lab.client.ns, ["cat"], { input: "a $HOME; b\n" })).toEqual({ stdout: "a $HOME; b\n", stderr: "", code: 0 });
    expect((await lab.exec(lab.client.ns, ["sh", "-c", "exit 3"])).code).toBe(3);
    const slow = await lab.exec(lab.client.ns, ["sleep", "5"], { timeoutMs: 200 });
    expect(slow.code).toBe(124);
    await expect(lab.exec("sy-nothere-c", ["true"])).rejects.toThrow(/not a namespace of lab/);
    await expect(lab.addAddress(lab.client, "10.0.0.1/32")).rejects.toThrow(/198\.18\.0\.0\/15/);
    await expect(lab.connect({ target: "192.0.2.1", port: 80, proto: "tcp", count: 1 })).rejects.toThrow(/198\.18\.0\.0\/15/);
    expect(await listStaleNamespaces()).not.toContain(lab.client.ns);
  });

  it("destroys everything it made, once", async () => {
    expect(serverPids.length).toBeGreaterThanOrEqual(2);
    expect(serverPids.every(alive)).toBe(true);
    await lab.destroy();
    await lab.destroy();
    expect(namespaces().filter((n) => n.startsWith(`${lab.prefix}-`))).toEqual([]);
    expect(serverPids.some(alive)).toBe(false);
    await expect(lab.exec(lab.client.ns, ["true"])).rejects.toThrow(/destroyed/);
  });
});

describe("a direct-return lab", () => {
  let lab: Lab;
  const VIP = "198.18.1.100";
  const VIP6 = "2001:db8:1::100";

  beforeAll(async () => {
    lab = await createLab({ backends: 2, directReturn: true });
    const b1 = lab.backends[0];
    if (!b1) throw new Error("no b1");
    await lab.addAddress(b1, `${VIP}/32`, "lo");
    await lab.addAddress(b1, VIP6, "lo");
    await lab.startServers({ tcpPorts: [80], udpPorts: [53] });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("routes the backends' replies to the client over the client's bridge link", async () => {
    for (const b of lab.backends) {
      expect((await lab.exec(b.ns, ["ip", "route", "get", "198.18.0.2"])).stdout).toMatch(/via 198\.18\.2\.200 dev eth0/);
      expect((await lab.exec(b.ns, ["ip", "route", "get", "2001:db8::2"])).stdout).toMatch(/via 2001:db8:2::200 dev eth0/);
      // Replies from a backend's own address (NAT modes) still go back through the balancer.
      expect((await lab.exec(b.ns, ["ip", "route", "get", "198.18.0.2", "from", b.ipv4[0] ?? ""])).stdout).toMatch(/via 198\.18\.2\.1 /);
    }
    // The client itself still reaches everything through the balancer.
    expect((await lab.exec(lab.client.ns, ["ip", "route", "get", "198.18.2.12"])).stdout).toMatch(/via 198\.18\.0\.1 dev eth0/);
    expect(lab.backends[0]?.ipv4).toEqual(["198.18.2.11", VIP]);
    expect((await lab.exec(lab.backends[0]?.ns ?? "", ["sysctl", "-n", "net.ipv4.conf.all.arp_ignore"])).stdout.trim()).toBe("1");
  });

  it("carries a direct-return flow: requests through the balancer, replies from the VIP straight back", async () => {
    // Stand-in for a dsr farm: the balancer routes the VIP to b1 (the frame reaches b1's MAC unchanged).
    const b1 = lab.backends[0];
    await lab.exec(lab.balancer.ns, ["ip", "route", "add", `${VIP}/32`, "via", b1?.ipv4[0] ?? ""]);
    await lab.exec(lab.balancer.ns, ["ip", "route", "add", `${VIP6}/128`, "via", b1?.ipv6[0] ?? ""]);
    const probe = `table netdev probe {
  chain from_backends {
    type filter hook ingress device "eth-b" priority 0; policy accept;
    ip saddr ${VIP} counter
    ip6 saddr ${VIP6} counter
  }
}
`;
    expect((await lab.exec(lab.balancer.ns, ["nft", "-f", "-"], { input: probe })).code).toBe(0);
    for (const [target, client] of [[VIP, "198.18.0.2"], [VIP6, "2001:db8::2"]] as const) {
      for (const proto of ["tcp", "udp"] as const) {
        const tally = await lab.connect({ target, port: proto === "tcp" ? 80 : 53, proto, count: 5 });
        expect(tally.failed).toBe(0);
        expect(tally.byBackend).toEqual({ b1: 5 });
        expect(tally.seenSources).toEqual({ [client]: 5 });
      }
    }
    const counters = (await lab.exec(lab.balancer.ns, ["nft", "list", "table", "netdev", "probe"])).stdout;
    expect(counters.match(/packets \d+/g)).toEqual(["packets 0", "packets 0"]);
  });

  it("adds a peer on the backend bridge that holds an address of its own", async () => {
    const peer = await lab.addPeer("peer", ["198.18.1.50"], ["2001:db8:1::50"]);
    expect(peer).toMatchObject({ ns: `${lab.prefix}-peer`, name: "peer", ipv4: ["198.18.1.50"], ipv6: ["2001:db8:1::50"], mac: "02:00:00:00:03:01" });
    await lab.startServers({ tcpPorts: [7000], hosts: [peer] });
    const to = await lab.connect({ target: "2001:db8:1::50", port: 7000, proto: "tcp", count: 2 });
    expect(to.byBackend).toEqual({ peer: 2 });
    const from = await lab.connect({ from: peer, target: "198.18.2.12", port: 53, proto: "udp", count: 2, concurrency: 1, sources: ["198.18.1.50"], sourcePort: 5000 });
    expect(from.byBackend).toEqual({ b2: 2 });
    expect(from.seenSources).toEqual({ "198.18.1.50": 2 });
  });
});

describe("withLab", () => {
  it("destroys the lab even when the body throws", async () => {
    let prefix = "";
    await expect(
      withLab({ backends: 0 }, async (lab) => {
        prefix = lab.prefix;
        throw new Error("test body failed");
      }),
    ).rejects.toThrow("test body failed");
    expect(prefix).not.toBe("");
    expect(namespaces().filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
  });

  it("refuses bad options before building anything", async () => {
    await expect(createLab({ backends: 101 })).rejects.toThrow(/backends/);
    await expect(createLab({ backends: 1, clientAddresses: 0 })).rejects.toThrow(/clientAddresses/);
  });
});
