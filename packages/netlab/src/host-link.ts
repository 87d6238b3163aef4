import { mustRun } from "./exec.ts";
import { assertOwn, type LabContext, type Topology } from "./topology.ts";
import type { HostLink } from "./types.ts";

// A point-to-point veth from the host's own namespace to the lab's balancer, so that a process
// on the host (a control plane under test) reaches what listens in the balancer (its agent's
// API) over real HTTP. Addresses are a /30 of 198.19.252.0/22 that no host interface uses yet.
// The pair goes away with the balancer's namespace.

const POOL_BASE = ((198 << 24) | (19 << 16) | (252 << 8)) >>> 0;
const POOL_SLOTS = 256; // /30s in a /22

const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const toInt = (a: string) => a.split(".").reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);

/** Links are made one at a time in a process: two labs choosing a free /30 at once would choose the same. */
let queue: Promise<unknown> = Promise.resolve();

export function linkHost(ctx: LabContext, topo: Topology): Promise<HostLink> {
  const made = queue.then(() => makeLink(ctx, topo));
  queue = made.catch(() => {});
  return made;
}

async function makeLink(ctx: LabContext, topo: Topology): Promise<HostLink> {
  assertOwn(ctx, topo.balancer.ns);
  const used = new Set<number>();
  const listing = JSON.parse(await mustRun(ctx.children, ["ip", "-j", "-4", "addr", "show"])) as { addr_info?: { local?: string }[] }[];
  for (const iface of listing) for (const info of iface.addr_info ?? []) if (info.local) used.add(Math.floor((toInt(info.local) - POOL_BASE) / 4));
  let slot = -1;
  for (let i = 0; i < POOL_SLOTS; i++) if (!used.has(i)) {
    slot = i;
    break;
  }
  if (slot < 0) throw new Error("netlab: no free /30 left in 198.19.252.0/22 for a host link");
  const hostAddr = dotted(POOL_BASE + slot * 4 + 1);
  const balancerAddr = dotted(POOL_BASE + slot * 4 + 2);
  const hostIface = `${ctx.prefix}-h`;
  if (hostIface.length > 15) throw new Error(`netlab: host interface name ${hostIface} is too long`);
  await mustRun(ctx.children, ["ip", "link", "add", hostIface, "type", "veth", "peer", "name", "mgmt0", "netns", topo.balancer.ns]);
  await mustRun(ctx.children, ["ip", "addr", "add", `${hostAddr}/30`, "dev", hostIface]);
  await mustRun(ctx.children, ["ip", "link", "set", hostIface, "up"]);
  await mustRun(ctx.children, ["ip", "-n", topo.balancer.ns, "addr", "add", `${balancerAddr}/30`, "dev", "mgmt0"]);
  await mustRun(ctx.children, ["ip", "-n", topo.balancer.ns, "link", "set", "mgmt0", "up"]);
  return { hostAddr, balancerAddr, hostIface };
}
