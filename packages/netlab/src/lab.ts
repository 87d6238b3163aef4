import { randomBytes } from "node:crypto";
import { listNamespaces, track, untrack } from "./cleanup.ts";
import { Children } from "./exec.ts";
import { startServers } from "./servers.ts";
import { addAddress, addPeer, assertOwn, buildTopology, type LabContext, type Topology } from "./topology.ts";
import { connect } from "./traffic.ts";
import { hold } from "./holding.ts";
import { linkHost } from "./host-link.ts";
import type { Balancer, ConnectOptions, ExecOptions, ExecResult, HoldOptions, HoldSession, Host, HostLink, Lab, LabOptions, ServerOptions, Tally } from "./types.ts";

class NetLab implements Lab {
  readonly prefix: string;
  readonly client: Host;
  readonly balancer: Balancer;
  readonly backends: Host[];
  readonly #ctx: LabContext;
  readonly #topo: Topology;
  #destroying: Promise<void> | undefined;

  constructor(ctx: LabContext, topo: Topology) {
    this.#ctx = ctx;
    this.#topo = topo;
    this.prefix = ctx.prefix;
    this.client = topo.client;
    this.balancer = topo.balancer;
    this.backends = topo.backends;
  }

  async exec(ns: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    assertOwn(this.#ctx, ns);
    if (argv.length === 0) throw new Error("netlab: exec: empty argv");
    return this.#ctx.children.run(["ip", "netns", "exec", ns, ...argv], opts);
  }

  addPeer(name: string, ipv4: string[], ipv6: string[]): Promise<Host> {
    return addPeer(this.#ctx, this.#topo, name, ipv4, ipv6);
  }

  linkHost(): Promise<HostLink> {
    return linkHost(this.#ctx, this.#topo);
  }

  addAddress(host: Host, addr: string, dev?: string): Promise<void> {
    return addAddress(this.#ctx, host, addr, dev);
  }

  startServers(opts: ServerOptions): Promise<void> {
    return startServers(this.#ctx, this.backends, opts);
  }

  connect(opts: ConnectOptions): Promise<Tally> {
    return connect(this.#ctx, this.client, opts);
  }

  hold(opts: HoldOptions): Promise<HoldSession> {
    return hold(this.#ctx, this.client, opts);
  }

  destroy(): Promise<void> {
    this.#destroying ??= teardown(this.#ctx);
    return this.#destroying;
  }
}

/** Kills the lab's processes by pid, then deletes its namespaces (which takes their veths along). */
async function teardown(ctx: LabContext): Promise<void> {
  ctx.destroyed = true;
  await ctx.children.killAll();
  const failures: string[] = [];
  await Promise.all(
    [...ctx.namespaces].map(async (ns) => {
      const r = await ctx.children.run(["ip", "netns", "del", ns], { timeoutMs: 30_000 });
      if (r.code === 0 || !(await listNamespaces()).includes(ns)) ctx.namespaces.delete(ns);
      else failures.push(`${ns}: ${r.stderr.trim()}`);
    }),
  );
  if (failures.length) throw new Error(`netlab: could not delete ${failures.join("; ")}`);
  untrack(ctx);
}

async function freshPrefix(): Promise<string> {
  const existing = await listNamespaces();
  for (;;) {
    const prefix = `sy-${randomBytes(3).toString("hex")}`;
    if (!existing.some((ns) => ns.startsWith(`${prefix}-`))) return prefix;
  }
}

function checkOptions(opts: LabOptions): void {
  const { backends, clientAddresses = 1 } = opts;
  if (!Number.isInteger(backends) || backends < 0 || backends > 100) throw new Error(`netlab: backends must be 0..100, not ${backends}`);
  if (!Number.isInteger(clientAddresses) || clientAddresses < 1 || clientAddresses > 200) {
    throw new Error(`netlab: clientAddresses must be 1..200, not ${clientAddresses}`);
  }
}

/** Builds a lab; if that fails half-way, whatever was built is torn down before the error is thrown. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  checkOptions(opts);
  const ctx: LabContext = { prefix: await freshPrefix(), namespaces: new Set(), children: new Children(), destroyed: false, peers: [] };
  track(ctx);
  try {
    return new NetLab(ctx, await buildTopology(ctx, opts));
  } catch (e) {
    await teardown(ctx).catch(() => {}); // the 'exit' handler retries whatever is left
    throw e;
  }
}

/** Runs fn with a fresh lab and always destroys it. */
export async function withLab<T>(opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}
