import {
  backendV4,
  backendV6,
  clientV4,
  clientV6,
  CLIENT_NET4,
  CLIENT_NET6,
  DSR_CLIENT4,
  DSR_CLIENT6,
  LB_BACKEND4,
  LB_BACKEND6,
  LB_CLIENT4,
  LB_CLIENT6,
  labAddress,
  MAC,
  onBackendLan,
} from "./addresses.ts";
import type { Owned } from "./cleanup.ts";
import { mustRun } from "./exec.ts";
import type { Balancer, Host, LabOptions } from "./types.ts";

/** A lab's own bookkeeping. */
export interface LabContext extends Owned {
  prefix: string;
  destroyed: boolean;
  /** Peer names in use, in creation order (their index names the bridge port). */
  peers: string[];
}

export interface Topology {
  client: Host;
  balancer: Balancer;
  backends: Host[];
}

const BRIDGE = "br0";
/** Backends with directReturn: replies from their own LAN address still go back via the balancer. */
const VIA_BALANCER_TABLE = "100";

const BASE_SYSCTLS = [
  "net.ipv4.conf.all.rp_filter=0",
  "net.ipv4.conf.default.rp_filter=0",
  "net.ipv6.conf.all.accept_dad=0",
  "net.ipv6.conf.default.accept_dad=0",
];
const ROLE_SYSCTLS = {
  end: ["net.ipv4.tcp_max_tw_buckets=0"],
  router: ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv6.conf.default.forwarding=1"],
  // The switch only bridges: keep its ports quiet at layer 3.
  switch: ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"],
};
type Role = keyof typeof ROLE_SYSCTLS;

export function assertOwn(ctx: LabContext, ns: string): void {
  if (ctx.destroyed) throw new Error(`netlab: lab ${ctx.prefix} is destroyed`);
  if (!ctx.namespaces.has(ns)) throw new Error(`netlab: ${JSON.stringify(ns)} is not a namespace of lab ${ctx.prefix}`);
}

function ipBatch(ctx: LabContext, ns: string, lines: string[], family?: "-4" | "-6"): Promise<string> {
  assertOwn(ctx, ns);
  const flags = family ? [family] : [];
  return mustRun(ctx.children, ["ip", "-n", ns, ...flags, "-batch", "-"], { input: `${lines.join("\n")}\n`, timeoutMs: 30_000 });
}

export function sysctl(ctx: LabContext, ns: string, settings: string[]): Promise<string> {
  assertOwn(ctx, ns);
  return mustRun(ctx.children, ["ip", "netns", "exec", ns, "sysctl", "-q", "-w", ...settings], { timeoutMs: 30_000 });
}

/** Creates a namespace (owned from the moment it exists) with the lab's sysctls for its role. */
async function addNamespace(ctx: LabContext, ns: string, role: Role): Promise<void> {
  await mustRun(ctx.children, ["ip", "netns", "add", ns], { timeoutMs: 30_000 });
  ctx.namespaces.add(ns);
  await sysctl(ctx, ns, [...BASE_SYSCTLS, ...ROLE_SYSCTLS[role]]);
}

/** rp_filter 0 and no DAD on each interface (lo included), set before the interfaces go up. */
function ifaceSysctls(ifaces: string[]): string[] {
  return [
    "net.ipv4.conf.lo.rp_filter=0",
    ...ifaces.flatMap((i) => [`net.ipv4.conf.${i}.rp_filter=0`, `net.ipv6.conf.${i}.accept_dad=0`]),
  ];
}

/** Waits (bounded) until no IPv6 address of the namespace is tentative. */
async function settle(ctx: LabContext, ns: string): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const out = await mustRun(ctx.children, ["ip", "-n", ns, "-6", "addr", "show", "tentative"]);
    if (out.trim() === "") return;
    if (Date.now() > until) throw new Error(`netlab: IPv6 addresses in ${ns} stay tentative:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs every task even if one fails (so nothing is half-running when cleanup starts), then throws the first error. */
async function all(tasks: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(tasks);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) throw failure.reason;
}

/** Bridge-port lines in the switch namespace: a veth whose other end becomes `iface` in `ns`. */
function bridgePort(port: string, ns: string, iface: string, mac: string): string[] {
  return [`link add ${port} type veth peer name ${iface} address ${mac} netns ${ns}`, `link set ${port} master ${BRIDGE}`, `link set ${port} up`];
}

export async function buildTopology(ctx: LabContext, opts: LabOptions): Promise<Topology> {
  const p = ctx.prefix;
  const nClient = opts.clientAddresses ?? 1;
  const dsr = opts.directReturn ?? false;
  const ns = { client: `${p}-c`, lb: `${p}-lb`, sw: `${p}-sw` };
  const backendNs = Array.from({ length: opts.backends }, (_, i) => `${p}-b${i + 1}`);

  // A: namespaces and their sysctls.
  await all([
    addNamespace(ctx, ns.client, "end"),
    addNamespace(ctx, ns.lb, "router"),
    addNamespace(ctx, ns.sw, "switch"),
    ...backendNs.map((b) => addNamespace(ctx, b, "end")),
  ]);

  // B: links. client <-> balancer directly; everything else through the bridge in the switch namespace.
  await all([
    ipBatch(ctx, ns.client, [`link add eth0 address ${MAC.client} type veth peer name eth-c address ${MAC.lbClient} netns ${ns.lb}`]),
    ipBatch(ctx, ns.sw, [
      "link set lo up",
      `link add ${BRIDGE} type bridge mcast_snooping 0`,
      `link set ${BRIDGE} up`,
      ...bridgePort("lb", ns.lb, "eth-b", MAC.lbBackend),
      ...backendNs.flatMap((b, i) => bridgePort(`b${i + 1}`, b, "eth0", MAC.backend(i + 1))),
      ...(dsr ? bridgePort("c", ns.client, "eth1", MAC.clientDsr) : []),
    ]),
  ]);

  // C: addresses and routes, per namespace.
  const clientIfaces = dsr ? ["eth0", "eth1"] : ["eth0"];
  const configureClient = async () => {
    await sysctl(ctx, ns.client, ifaceSysctls(clientIfaces));
    await ipBatch(ctx, ns.client, [
      ...clientIfaces.map((i) => `link set ${i} up`),
      "link set lo up",
      ...Array.from({ length: nClient }, (_, i) => `addr add ${clientV4(i)}/24 dev eth0`),
      // Extra IPv6 addresses are deprecated so that the kernel still picks the first one by itself.
      ...Array.from({ length: nClient }, (_, i) => `addr add ${clientV6(i)}/64 dev eth0 nodad${i > 0 ? " preferred_lft 0" : ""}`),
      `route add 0.0.0.0/0 via ${LB_CLIENT4}`,
      `route add ::/0 via ${LB_CLIENT6}`,
      // The bridge link is only a way in for direct replies: no prefix route, so that the
      // client still reaches everything (backends included) through the balancer.
      ...(dsr ? [`addr add ${DSR_CLIENT4}/24 dev eth1 noprefixroute`, `addr add ${DSR_CLIENT6}/64 dev eth1 nodad noprefixroute`] : []),
    ]);
  };
  const configureLb = async () => {
    await sysctl(ctx, ns.lb, ifaceSysctls(["eth-c", "eth-b"]));
    await ipBatch(ctx, ns.lb, [
      "link set lo up",
      "link set eth-c up",
      "link set eth-b up",
      `addr add ${LB_CLIENT4}/24 dev eth-c`,
      `addr add ${LB_CLIENT6}/64 dev eth-c nodad`,
      `addr add ${LB_BACKEND4}/24 dev eth-b`,
      `addr add ${LB_BACKEND6}/64 dev eth-b nodad`,
    ]);
  };
  const configureBackend = async (b: string, k: number) => {
    await sysctl(ctx, b, ifaceSysctls(["eth0"]));
    await ipBatch(ctx, b, [
      "link set lo up",
      "link set eth0 up",
      `addr add ${backendV4(k)}/24 dev eth0`,
      `addr add ${backendV6(k)}/64 dev eth0 nodad`,
      `route add 0.0.0.0/0 via ${LB_BACKEND4}`,
      `route add ::/0 via ${LB_BACKEND6}`,
      ...(dsr
        ? [
            `route add ${CLIENT_NET4} via ${DSR_CLIENT4}`,
            `route add ${CLIENT_NET6} via ${DSR_CLIENT6}`,
            // Replies from the backend's own address (dnat, snat) still go back through the balancer,
            // which must un-NAT them; replies from a VIP held on lo (dsr) take the direct route.
            `route add ${CLIENT_NET4} via ${LB_BACKEND4} table ${VIA_BALANCER_TABLE}`,
            `route add ${CLIENT_NET6} via ${LB_BACKEND6} table ${VIA_BALANCER_TABLE}`,
            `rule add from 198.18.2.0/24 lookup ${VIA_BALANCER_TABLE} priority 100`,
          ]
        : []),
    ]);
    if (dsr) await ipBatch(ctx, b, [`rule add from 2001:db8:2::/64 lookup ${VIA_BALANCER_TABLE} priority 100`], "-6");
  };
  await all([configureClient(), configureLb(), ...backendNs.map((b, i) => configureBackend(b, i + 1))]);

  // D: every IPv6 address usable at once.
  await all([ns.client, ns.lb, ...backendNs].map((n) => settle(ctx, n)));

  return {
    client: {
      ns: ns.client,
      name: "client",
      ipv4: Array.from({ length: nClient }, (_, i) => clientV4(i)),
      ipv6: Array.from({ length: nClient }, (_, i) => clientV6(i)),
      iface: "eth0",
      mac: MAC.client,
    },
    balancer: {
      ns: ns.lb,
      name: "balancer",
      ipv4: [LB_CLIENT4],
      ipv6: [LB_CLIENT6],
      iface: "eth-c",
      mac: MAC.lbClient,
      clientIface: "eth-c",
      backendIface: "eth-b",
      backendIpv4: LB_BACKEND4,
      backendIpv6: LB_BACKEND6,
      backendMac: MAC.lbBackend,
    },
    backends: backendNs.map((b, i) => ({
      ns: b,
      name: `b${i + 1}`,
      ipv4: [backendV4(i + 1)],
      ipv6: [backendV6(i + 1)],
      iface: "eth0",
      mac: MAC.backend(i + 1),
    })),
  };
}

const RESERVED = /^(c|lb|sw|b\d+)$/;

/**
 * A host on the backend bridge. Addresses on the backend LAN get its prefix; any other lab
 * address is held as a host address, with a host route to it on the balancer's backend side.
 */
export async function addPeer(ctx: LabContext, topo: Topology, name: string, ipv4: string[], ipv6: string[]): Promise<Host> {
  if (!/^[a-z][a-z0-9]{0,11}$/.test(name) || RESERVED.test(name) || ctx.peers.includes(name)) {
    throw new Error(`netlab: bad or taken peer name ${JSON.stringify(name)} (lowercase letters and digits, at most 12)`);
  }
  const addrs = [...ipv4, ...ipv6].map(labAddress);
  if (addrs.some((a, i) => a.family !== (i < ipv4.length ? 4 : 6))) throw new Error("netlab: addPeer: address in the wrong family list");
  ctx.peers.push(name);
  const index = ctx.peers.length;
  const ns = `${ctx.prefix}-${name}`;
  const sw = `${ctx.prefix}-sw`;
  const mac = MAC.peer(index);
  await addNamespace(ctx, ns, "end");
  await ipBatch(ctx, sw, bridgePort(`p${index}`, ns, "eth0", mac));
  await sysctl(ctx, ns, ifaceSysctls(["eth0"]));
  const len = (a: (typeof addrs)[number]) => a.len ?? (onBackendLan(a) ? (a.family === 4 ? 24 : 64) : a.family === 4 ? 32 : 128);
  await ipBatch(ctx, ns, [
    "link set lo up",
    "link set eth0 up",
    ...addrs.map((a) => `addr add ${a.addr}/${len(a)} dev eth0${a.family === 6 ? " nodad" : ""}`),
    ...(ipv4.length ? [`route add 0.0.0.0/0 via ${LB_BACKEND4} dev eth0 onlink`] : []),
    ...(ipv6.length ? [`route add ::/0 via ${LB_BACKEND6} dev eth0 onlink`] : []),
  ]);
  const foreign = addrs.filter((a) => !onBackendLan(a));
  if (foreign.length) {
    await ipBatch(ctx, topo.balancer.ns, foreign.map((a) => `route add ${a.addr}/${a.family === 4 ? 32 : 128} dev ${topo.balancer.backendIface}`));
  }
  await settle(ctx, ns);
  return { ns, name, ipv4: addrs.filter((a) => a.family === 4).map((a) => a.addr), ipv6: addrs.filter((a) => a.family === 6).map((a) => a.addr), iface: "eth0", mac };
}

export async function addAddress(ctx: LabContext, host: Host, text: string, dev = host.iface): Promise<void> {
  const a = labAddress(text);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw new Error(`netlab: bad interface name ${JSON.stringify(dev)}`);
  assertOwn(ctx, host.ns);
  if (dev === "lo") {
    // A host answering for a VIP it holds on lo must not answer ARP for it on the LAN.
    await sysctl(ctx, host.ns, [
      "net.ipv4.conf.all.arp_ignore=1",
      "net.ipv4.conf.all.arp_announce=2",
      `net.ipv4.conf.${host.iface}.arp_ignore=1`,
      `net.ipv4.conf.${host.iface}.arp_announce=2`,
    ]);
  }
  const len = a.len ?? (a.family === 4 ? 32 : 128);
  await ipBatch(ctx, host.ns, [`addr add ${a.addr}/${len} dev ${dev}${a.family === 6 ? " nodad" : ""}`]);
  const list = a.family === 4 ? host.ipv4 : host.ipv6;
  if (!list.includes(a.addr)) list.push(a.addr);
}
