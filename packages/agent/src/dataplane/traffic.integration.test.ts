import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuleset, parseConfig, type BackendCounters, type CountersReport, type FarmCounters, type IrRuleset } from "@switchyard/core";
import { createLab, type Lab } from "@switchyard/netlab";
import { irHash } from "../managed/schema.ts";
import { backendAddrs } from "../testing/agent-in-lab.ts";
import { startAgent, type ApiResponse, type RunningAgent } from "../testing/agent-client.ts";

// Packets and bytes per backend on the real kernel: a managed agent in the balancer namespace,
// long-lived TCP connections from the client through a snat and a dnat farm to echo servers,
// known amounts sent on each. Every backend's traffic counter must hold at least what went to
// it and came back (IP length: payload plus headers), not much more (nothing counted twice),
// and nothing for the backend that got no connection. Then the farms are re-weighted and a
// backend set off: the old connections go on counting to the backend that serves them, and
// new ones to where the new weights send them.

const VIP = "198.18.1.100";
const VIP6 = "2001:db8:1::100";
const FARMS = { web: { mode: "snat", port: 80 }, api: { mode: "dnat", port: 81 } } as const;
type FarmName = keyof typeof FARMS;
/** Farms of revision 3 on top of those: an IPv6 farm, and one on a port range (the interval map). */
const MORE = { six: { target: VIP6, port: 82 }, range: { target: VIP, port: 8001 } } as const;
const ECHO_PORT = 9000;
const TOKEN = "traffic-test-token-0123456789abcdef00";
const CONNECTIONS = 8;
const CHUNK = 20_000;
const SENDER = resolve(import.meta.dirname, "../testing/echo-sender.mjs");

let lab: Lab;
let dir: string;
let agent: RunningAgent | undefined;
const senders: Sender[] = [];

interface BackendSpec {
  weight: number;
  state: "up" | "off";
}

function irWith(specs: BackendSpec[], more = false): IrRuleset {
  const backends = (family: 4 | 6) =>
    specs.map((s, i) => ({ name: `b${i + 1}`, "ip-addr": backendAddrs(lab, family)[i], port: String(ECHO_PORT), weight: s.weight, state: s.state }));
  const farms: Record<string, unknown>[] = Object.entries(FARMS).map(([name, { mode, port }]) => ({
    name,
    "virtual-addr": VIP,
    "virtual-ports": String(port),
    mode,
    scheduler: "weight",
    backends: backends(4),
  }));
  if (more) {
    farms.push({ name: "six", family: "ipv6", "virtual-addr": VIP6, "virtual-ports": String(MORE.six.port), mode: "dnat", backends: backends(6) });
    farms.push({ name: "range", "virtual-addr": VIP, "virtual-ports": "8000-8002", scheduler: "rr", backends: backends(4) });
  }
  return buildRuleset(parseConfig({ farms }), { table: "switchyard" });
}

const call = (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
  if (agent === undefined) throw new Error("no agent running");
  return agent.client.managed(method, path, TOKEN, body);
};

async function put(revision: number, ir: IrRuleset): Promise<void> {
  const answer = await call("PUT", "/v1/ruleset", { revision, hash: irHash(ir), ir });
  expect([answer.status, answer.body]).toEqual([200, { applied: revision, changed: true }]);
}

async function report(): Promise<Record<FarmName | keyof typeof MORE, FarmCounters>> {
  const answer = await call("GET", "/v1/counters");
  expect(answer.status).toBe(200);
  const farms = (answer.body as CountersReport).farms;
  return Object.fromEntries(farms.map((f) => [f.name, f])) as Record<FarmName | keyof typeof MORE, FarmCounters>;
}

const backendOf = (farm: FarmCounters, name: string): BackendCounters => {
  const found = farm.backends.find((b) => b.name === name);
  if (found === undefined) throw new Error(`farm ${farm.name} reports no backend ${name}: ${JSON.stringify(farm)}`);
  return found;
};

/** echo-sender.mjs in the client namespace, driven line by line. */
class Sender {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: string[] = [];
  private wake: (() => void) | null = null;
  private stderr = "";
  backends: string[] = [];

  constructor(target: string, port: number) {
    this.child = spawn("ip", ["netns", "exec", lab.client.ns, process.execPath, SENDER, target, String(port), String(CONNECTIONS)]);
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on("line", (line) => {
      this.pending.push(line);
      this.wake?.();
    });
    this.child.on("close", () => this.wake?.());
  }

  private async next(): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 20_000;
    while (this.pending.length === 0) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`echo-sender gave no answer (exit ${this.child.exitCode}): ${this.stderr}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
    return JSON.parse(this.pending.shift() as string) as Record<string, unknown>;
  }

  async opened(): Promise<string[]> {
    this.backends = (await this.next()).backends as string[];
    return this.backends;
  }

  async send(bytes: number): Promise<void> {
    this.child.stdin.write(`send ${bytes}\n`);
    expect(await this.next()).toEqual({ sent: bytes });
  }

  /** How many of this sender's connections a backend serves. */
  on(backend: string): number {
    return this.backends.filter((b) => b === backend).length;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin.end("close\n");
    await new Promise((r) => this.child.once("close", r));
  }
}

async function open(farm: FarmName | keyof typeof MORE): Promise<Sender> {
  const sender = farm === "six" || farm === "range" ? new Sender(MORE[farm].target, MORE[farm].port) : new Sender(VIP, FARMS[farm].port);
  senders.push(sender);
  await sender.opened();
  return sender;
}

/** What each backend of a farm must have counted at least: every byte sent and echoed, per connection. */
type Sent = Record<string, number>;

function addSent(into: Sent, sender: Sender, bytes: number): void {
  for (const b of sender.backends) into[b] = (into[b] ?? 0) + 2 * bytes;
}

/** At least the payload; at most the payload with generous room for headers and ACKs (a packet counted twice would double it). */
function expectBytes(farm: FarmCounters, backend: string, payload: number): void {
  const counted = backendOf(farm, backend);
  expect(counted.bytes, `${farm.name}/${backend} bytes`).toBeGreaterThanOrEqual(payload);
  expect(counted.bytes, `${farm.name}/${backend} bytes`).toBeLessThan(payload * 1.25 + 20_000);
  if (payload > 0) expect(counted.packets, `${farm.name}/${backend} packets`).toBeGreaterThan(0);
}

function expectSums(farm: FarmCounters): void {
  expect(farm.packets).toBe(farm.backends.reduce((n, b) => n + b.packets, 0));
  expect(farm.bytes).toBe(farm.backends.reduce((n, b) => n + b.bytes, 0));
}

beforeAll(async () => {
  lab = await createLab({ backends: 3 });
  await lab.startServers({ holdPorts: [ECHO_PORT] });
  dir = mkdtempSync(join(tmpdir(), "switchyard-traffic-"));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  agent = await startAgent(lab, { stateDir: join(dir, "state"), args: managedArgs() });
});

const managedArgs = () => ["--managed", "--token-file", join(dir, "token"), "--control-plane", "https://cp.example.test"];

afterAll(async () => {
  for (const s of senders) await s.close().catch(() => {});
  await agent?.stop("SIGKILL");
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("per-backend traffic counters (managed agent, snat and dnat, long-lived connections)", () => {
  const sent: Record<FarmName, Sent> = { web: {}, api: {} };
  const first: Partial<Record<FarmName, Sender>> = {};

  it("count every byte each backend got and sent back, and nothing for the backend that got no connection", async () => {
    await put(1, irWith([{ weight: 1, state: "up" }, { weight: 1, state: "up" }, { weight: 1, state: "off" }]));
    for (const farm of ["web", "api"] as const) {
      const sender = await open(farm);
      first[farm] = sender;
      expect(sender.on("b3"), `${farm}: b3 is off`).toBe(0);
      expect(sender.backends).toHaveLength(CONNECTIONS);
      await sender.send(CHUNK);
      addSent(sent[farm], sender, CHUNK);
    }
    const counted = await report();
    for (const farm of ["web", "api"] as const) {
      const f = counted[farm];
      expect(f.connections).toBe(CONNECTIONS);
      for (const b of ["b1", "b2"]) expectBytes(f, b, sent[farm][b] ?? 0);
      expect(backendOf(f, "b3")).toEqual({ name: "b3", connections: 0, packets: 0, bytes: 0 });
      expectSums(f);
    }
  });

  it("after a re-weight and a backend set off, old connections still count to the backend that serves them", async () => {
    // b1 off, b2 and b3 up with other weights: every slot moves, and b1 takes no new connection.
    await put(2, irWith([{ weight: 1, state: "off" }, { weight: 3, state: "up" }, { weight: 1, state: "up" }]));
    for (const farm of ["web", "api"] as const) {
      const old = first[farm] as Sender;
      await old.send(CHUNK);
      addSent(sent[farm], old, CHUNK);
      const fresh = await open(farm);
      expect(fresh.on("b1"), `${farm}: b1 is off for new connections`).toBe(0);
      await fresh.send(CHUNK / 2);
      addSent(sent[farm], fresh, CHUNK / 2);
    }
    const counted = await report();
    for (const farm of ["web", "api"] as const) {
      const f = counted[farm];
      expect(f.connections).toBe(2 * CONNECTIONS);
      // b1 served old connections only, and has every byte of them, the second chunk included.
      expect((first[farm] as Sender).on("b1")).toBeGreaterThan(0); // 8 connections at 1:1: all on b2 has p = 1/256
      for (const b of ["b1", "b2", "b3"]) expectBytes(f, b, sent[farm][b] ?? 0);
      expectSums(f);
    }
  });

  it("an IPv6 farm and a farm on a port range count the same way", async () => {
    await put(3, irWith([{ weight: 1, state: "off" }, { weight: 3, state: "up" }, { weight: 1, state: "up" }], true));
    for (const farm of ["six", "range"] as const) {
      const sender = await open(farm);
      expect(sender.on("b1"), `${farm}: b1 is off`).toBe(0);
      await sender.send(CHUNK);
      const sentHere: Sent = {};
      addSent(sentHere, sender, CHUNK);
      const f = (await report())[farm];
      expect(f.connections).toBe(CONNECTIONS);
      for (const b of ["b1", "b2", "b3"]) expectBytes(f, b, sentHere[b] ?? 0);
      expectSums(f);
    }
  });

  it("a restart (kill -9) carries every count over, read and seeded through nft alone (--nft-only) as through netlink", async () => {
    const before = await report();
    await agent?.stop("SIGKILL");
    // The new agent's cold apply replaces the table: its elements start from what the old ones counted.
    agent = await startAgent(lab, { stateDir: join(dir, "state"), args: [...managedArgs(), "--nft-only"] });
    const after = await report();
    for (const farm of ["web", "api", "six", "range"] as const) {
      expect(after[farm].connections, farm).toBe(before[farm].connections);
      for (const b of before[farm].backends) {
        const now = backendOf(after[farm], b.name);
        // Open connections may have moved a few bytes (an ACK, a keepalive) in between.
        expect(now.bytes, `${farm}/${b.name} bytes`).toBeGreaterThanOrEqual(b.bytes);
        expect(now.bytes, `${farm}/${b.name} bytes`).toBeLessThan(b.bytes + 2_000);
        expect(now.packets, `${farm}/${b.name} packets`).toBeGreaterThanOrEqual(b.packets);
      }
    }
    expect(before.web.bytes).toBeGreaterThan(0);
  });

  it("/metrics carries the same packets and bytes", async () => {
    const counted = await report();
    const text = (await call("GET", "/metrics")).body as string;
    for (const farm of ["web", "api"] as const) {
      const f = counted[farm];
      const farmBytes = Number(new RegExp(`^switchyard_farm_bytes_total\\{farm="${farm}"\\} (\\d+)$`, "m").exec(text)?.[1]);
      // Connections still open may have moved a few bytes (a FIN, an ACK) between the two reads.
      expect(farmBytes).toBeGreaterThanOrEqual(f.bytes);
      const b2 = Number(new RegExp(`^switchyard_backend_packets_total\\{farm="${farm}",backend="b2"\\} (\\d+)$`, "m").exec(text)?.[1]);
      expect(b2).toBeGreaterThanOrEqual(backendOf(f, "b2").packets);
    }
  });
});
