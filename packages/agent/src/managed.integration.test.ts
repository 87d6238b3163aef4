import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuleset, parseConfig, type IrRuleset } from "@switchyard/core";
import { createLab, type Lab } from "@switchyard/netlab";
import { irHash } from "./managed/schema.ts";
import { backendAddrs, listRuleset } from "./testing/agent-in-lab.ts";
import { runAgentToExit, startAgent, type ApiResponse, type RunningAgent } from "./testing/agent-client.ts";

/** Everything the state dir holds: the snapshot and the journal (a refused change must touch neither). */
const stateFiles = (dir: string) => ["state.json", "journal.ndjson"].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "")).join("\n--\n");

// Managed mode as the control plane drives it: rulesets PUT with revisions to a real agent in
// the balancer namespace, real nft, real connections from the client namespace; then a
// SIGKILL, the table deleted behind its back, and a restart that puts the rules back.

const VIP = "198.18.1.100";
const PORT = 80;
const BACKEND_PORT = 8080;
const TOKEN = "managed-test-token-0123456789abcdef";
const CONTROL_PLANE = "https://cp.example.test";

let lab: Lab;
let dir: string;
let tokenFile: string;
let stateDir: string;
let agent: RunningAgent | undefined;
const agents: RunningAgent[] = [];

const MANAGED_ARGS = () => ["--managed", "--token-file", tokenFile, "--control-plane", CONTROL_PLANE];

async function start(): Promise<RunningAgent> {
  const started = await startAgent(lab, { stateDir, args: MANAGED_ARGS() });
  agents.push(started);
  return started;
}
const call = (method: string, path: string, body?: unknown, token = TOKEN): Promise<ApiResponse> => {
  if (agent === undefined) throw new Error("no agent running");
  return agent.client.managed(method, path, token, body);
};

function irWith(b2State: "up" | "down"): IrRuleset {
  const [a1 = "", a2 = ""] = backendAddrs(lab);
  const config = parseConfig({
    farms: [
      {
        name: "web",
        "virtual-addr": VIP,
        "virtual-ports": String(PORT),
        backends: [
          { name: "b1", "ip-addr": a1, port: String(BACKEND_PORT) },
          { name: "b2", "ip-addr": a2, port: String(BACKEND_PORT), state: b2State },
        ],
      },
    ],
  });
  return buildRuleset(config, { table: "switchyard" });
}
const put = (revision: number, ir: IrRuleset, extra: Record<string, unknown> = {}) => call("PUT", "/v1/ruleset", { revision, hash: irHash(ir), ir, ...extra });
const tally = (count: number) => lab.connect({ target: VIP, port: PORT, proto: "tcp", count });

beforeAll(async () => {
  lab = await createLab({ backends: 2 });
  await lab.startServers({ tcpPorts: [BACKEND_PORT] });
  dir = mkdtempSync(join(tmpdir(), "switchyard-managed-"));
  tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  stateDir = join(dir, "state");
});
afterAll(async () => {
  for (const a of agents) await a.stop("SIGKILL");
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("switchyard-agent --managed", () => {
  it("refuses to start without a token, or with a short one (exit 1, clear message)", async () => {
    const none = await runAgentToExit(lab, { stateDir, args: ["--managed"] });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("managed mode needs the node token: --token-file FILE or SWITCHYARD_NODE_TOKEN");
    const shortFile = join(dir, "short");
    writeFileSync(shortFile, "tooshort");
    const short = await runAgentToExit(lab, { stateDir, args: ["--managed", "--token-file", shortFile] });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("the node token is too short (8 characters; at least 32)");
  });

  it("revision 1: real connections reach both backends; the same PUT again changes nothing", async () => {
    agent = await start();
    const status0 = await call("GET", "/v1/status");
    expect(status0.body).toMatchObject({ mode: "managed", appliedRevision: null, lastError: null, table: "switchyard", nftVersion: expect.stringMatching(/nftables v1/) });
    const first = await put(1, irWith("up"));
    expect([first.status, first.body]).toEqual([200, { applied: 1, changed: true }]);
    const result = await tally(20);
    expect(result.failed).toBe(0);
    expect(result.byBackend).toEqual({ b1: 10, b2: 10 });
    const again = await put(1, irWith("up"));
    expect([again.status, again.body]).toEqual([200, { applied: 1, changed: false }]);
  });

  it("revision 2 with b2 down: traffic follows; revision 1 again is 409 unless forced", async () => {
    expect((await put(2, irWith("down"))).body).toEqual({ applied: 2, changed: true });
    // A backend state change refills one farm chain: the netlink fast path commits it.
    expect((await call("GET", "/v1/status")).body).toMatchObject({ lastApply: { kind: "delta", via: "netlink" } });
    const down = await tally(10);
    expect(down.failed).toBe(0);
    expect(down.byBackend).toEqual({ b1: 10 });

    const old = await put(1, irWith("up"));
    expect([old.status, old.body]).toEqual([409, { error: expect.stringContaining("older than the applied revision 2"), appliedRevision: 2 }]);
    expect((await tally(4)).byBackend).toEqual({ b1: 4 });

    const forced = await put(1, irWith("up"), { force: true });
    expect([forced.status, forced.body]).toEqual([200, { applied: 1, changed: true }]);
    expect((await tally(10)).byBackend).toEqual({ b1: 5, b2: 5 });
    expect((await call("GET", "/v1/status")).body).toMatchObject({ appliedRevision: 1, appliedHash: irHash(irWith("up")) });
  });

  it("a bad token is 401; a hash mismatch is 400 and changes nothing", async () => {
    const bad = await call("GET", "/v1/status", undefined, "x".repeat(40));
    expect([bad.status, bad.body]).toEqual([401, { error: "the token is not valid" }]);
    const before = { ruleset: await listRuleset(lab), state: stateFiles(stateDir) };
    const mismatch = await call("PUT", "/v1/ruleset", { revision: 3, hash: irHash(irWith("up")), ir: irWith("down") });
    expect([mismatch.status, mismatch.body]).toEqual([400, { error: expect.stringMatching(/^hash mismatch/) }]);
    const unauthorized = await call("PUT", "/v1/ruleset", { revision: 3, hash: irHash(irWith("down")), ir: irWith("down") }, "y".repeat(40));
    expect(unauthorized.status).toBe(401);
    expect(await listRuleset(lab)).toBe(before.ruleset);
    expect(stateFiles(stateDir)).toBe(before.state);
  });

  it("the nftlb API refuses changes with 409 naming the control plane; metrics and facts answer", async () => {
    const post = await agent!.client.post({ farms: [{ name: "web", backends: [{ name: "b2", state: "down" }] }] });
    expect([post.status, post.body]).toEqual([409, { response: "error", message: `this agent is managed by ${CONTROL_PLANE}; change farms there` }]);
    const get = await agent!.client.getFarms();
    expect(get.status).toBe(409);
    const metrics = await call("GET", "/metrics");
    expect(metrics.body).toEqual(expect.stringContaining("switchyard_agent_applied_revision 1\n"));
    expect(metrics.body).toEqual(expect.stringContaining('switchyard_agent_applies_total{result="ok"} 3\n'));
    const facts = (await call("GET", "/v1/facts")).body as { interfaces: { name: string; mac: string | null; addresses: string[] }[]; neighbours: unknown[] };
    expect(facts.interfaces.some((i) => i.addresses.some((a) => a.startsWith("198.18.")) && /^[0-9a-f:]{17}$/.test(i.mac ?? ""))).toBe(true);
    expect(Array.isArray(facts.neighbours)).toBe(true);
  });

  it("after SIGKILL and the table deleted, a restart re-applies the last revision before it listens", async () => {
    await agent!.stop("SIGKILL");
    agent = undefined;
    const del = await lab.exec(lab.balancer.ns, ["nft", "delete", "table", "inet", "switchyard"]);
    expect(del.code).toBe(0);
    expect(await listRuleset(lab)).not.toContain("table inet switchyard");
    agent = await start();
    expect((await call("GET", "/v1/status")).body).toMatchObject({ mode: "managed", appliedRevision: 1, appliedHash: irHash(irWith("up")) });
    expect(await listRuleset(lab)).toContain("table inet switchyard");
    const result = await tally(10);
    expect(result.failed).toBe(0);
    expect(result.byBackend).toEqual({ b1: 5, b2: 5 });
  });
});
