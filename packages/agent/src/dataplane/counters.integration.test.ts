import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuleset, parseConfig, type IrRuleset } from "@switchyard/core";
import { createLab, type Lab } from "@switchyard/netlab";
import type { CountersReport } from "../counters.ts";
import { irHash } from "../managed/schema.ts";
import { backendAddrs } from "../testing/agent-in-lab.ts";
import { startAgent, type ApiResponse, type RunningAgent } from "../testing/agent-client.ts";

// Per-backend counters on the real kernel: a managed agent in the balancer namespace, real
// connections from the client namespace counted by the backends that answered, and the agent's
// counters (GET /v1/counters, /metrics) must say exactly the same, per backend. Then deltas
// (a re-weight through the netlink fast path, a backend added through nft) and a restart (a
// full replace) must not reset them.

const VIP = "198.18.1.100";
const PORT = 80;
const BACKEND_PORT = 8080;
const TOKEN = "counters-test-token-0123456789abcdef";

let lab: Lab;
let dir: string;
let tokenFile: string;
let stateDir: string;
let agent: RunningAgent | undefined;
const agents: RunningAgent[] = [];

async function start(): Promise<RunningAgent> {
  const started = await startAgent(lab, { stateDir, args: ["--managed", "--token-file", tokenFile, "--control-plane", "https://cp.example.test"] });
  agents.push(started);
  return started;
}
const call = (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
  if (agent === undefined) throw new Error("no agent running");
  return agent.client.managed(method, path, TOKEN, body);
};

function irWith(weights: number[]): IrRuleset {
  const addrs = backendAddrs(lab);
  const config = parseConfig({
    farms: [
      {
        name: "web",
        "virtual-addr": VIP,
        "virtual-ports": String(PORT),
        scheduler: "weight",
        backends: weights.map((weight, i) => ({ name: `b${i + 1}`, "ip-addr": addrs[i], port: String(BACKEND_PORT), weight })),
      },
    ],
  });
  return buildRuleset(config, { table: "switchyard" });
}
const put = async (revision: number, ir: IrRuleset) => {
  const answer = await call("PUT", "/v1/ruleset", { revision, hash: irHash(ir), ir });
  expect([answer.status, answer.body]).toEqual([200, { applied: revision, changed: true }]);
};

/** What the agent reports for farm web: backend -> connections, and the farm's total. */
async function counted(): Promise<{ total: number; byBackend: Record<string, number> }> {
  const answer = await call("GET", "/v1/counters");
  expect(answer.status).toBe(200);
  const report = answer.body as CountersReport;
  expect(report.farms.map((f) => f.name)).toEqual(["web"]);
  const web = report.farms[0]!;
  return { total: web.connections, byBackend: Object.fromEntries(web.backends.map((b) => [b.name, b.connections])) };
}

/** The same from /metrics. */
async function scraped(): Promise<{ total: number; byBackend: Record<string, number> }> {
  const text = (await call("GET", "/metrics")).body as string;
  const total = Number(/^switchyard_farm_connections_total\{farm="web"\} (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
  const byBackend: Record<string, number> = {};
  for (const m of text.matchAll(/^switchyard_backend_connections_total\{farm="web",backend="([^"]+)"\} (\d+)$/gm)) byBackend[m[1]!] = Number(m[2]);
  return { total, byBackend };
}

/** Adds up tallies per backend, with zero for backends that got nothing. */
function add(into: Record<string, number>, tally: Record<string, number>): void {
  for (const [backend, n] of Object.entries(tally)) into[backend] = (into[backend] ?? 0) + n;
}

beforeAll(async () => {
  lab = await createLab({ backends: 3 });
  await lab.startServers({ tcpPorts: [BACKEND_PORT] });
  dir = mkdtempSync(join(tmpdir(), "switchyard-counters-"));
  tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  stateDir = join(dir, "state");
});
afterAll(async () => {
  for (const a of agents) await a.stop("SIGKILL");
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("per-backend connection counters (managed agent, real connections)", () => {
  const expected: Record<string, number> = { b1: 0, b2: 0 };

  it("count exactly the connections each backend answered, in /v1/counters and /metrics", async () => {
    agent = await start();
    await put(1, irWith([2, 1]));
    expect(await counted()).toEqual({ total: 0, byBackend: { b1: 0, b2: 0 } });
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 30, concurrency: 8 });
    expect(tally.failed).toBe(0);
    expect(Object.keys(tally.byBackend).length).toBe(2); // weight 2:1 over 30 connections: both get some (all on one: p < 1e-5)
    add(expected, tally.byBackend);
    expect(await counted()).toEqual({ total: 30, byBackend: expected });
    expect(await scraped()).toEqual({ total: 30, byBackend: expected });
  });

  it("a re-weighted backend (a chain refill through the netlink fast path) keeps every count", async () => {
    await put(2, irWith([1, 3]));
    expect((await call("GET", "/v1/status")).body).toMatchObject({ lastApply: { kind: "delta", via: "netlink" } });
    expect(await counted()).toEqual({ total: 30, byBackend: expected });
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 20, concurrency: 8 });
    expect(tally.failed).toBe(0);
    add(expected, tally.byBackend);
    expect(await counted()).toEqual({ total: 50, byBackend: expected });
    expect(await scraped()).toEqual({ total: 50, byBackend: expected });
  });

  it("a backend added (a new counter, through nft) starts from zero; the others keep theirs", async () => {
    await put(3, irWith([1, 1, 1]));
    expect((await call("GET", "/v1/status")).body).toMatchObject({ lastApply: { kind: "delta", via: "nft" } });
    expected.b3 = 0;
    expect(await counted()).toEqual({ total: 50, byBackend: expected });
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 30 });
    expect(tally.failed).toBe(0);
    add(expected, tally.byBackend);
    expect(await counted()).toEqual({ total: 80, byBackend: expected });
  });

  it("a restart (a full replace of the tables) carries the counts over", async () => {
    await agent!.stop("SIGTERM");
    agent = await start();
    expect((await call("GET", "/v1/status")).body).toMatchObject({ appliedRevision: 3, lastApply: null });
    expect(await counted()).toEqual({ total: 80, byBackend: expected });
    const tally = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count: 9 });
    expect(tally.failed).toBe(0);
    add(expected, tally.byBackend);
    expect(await scraped()).toEqual({ total: 89, byBackend: expected });
  });

  it("a backend removed takes its counter with it", async () => {
    await put(4, irWith([1, 1]));
    delete expected.b3;
    expect(await counted()).toEqual({ total: (expected.b1 ?? 0) + (expected.b2 ?? 0), byBackend: expected });
    const listed = await lab.exec(lab.balancer.ns, ["nft", "list", "counters", "table", "inet", "switchyard"]);
    expect(listed.stdout).not.toContain("c/web/b3");
  });
});
