import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildRuleset, parseConfig, type IrRuleset } from "@switchyard/core";
import { Applier } from "../applier.ts";
import { errorBody, nftlbApi } from "../http/nftlb-api.ts";
import { serveJson, type JsonServer } from "../http/server.ts";
import { createLogger } from "../log.ts";
import { NftDriver } from "../nft/driver.ts";
import type { NftRunner, RunResult } from "../nft/runner.ts";
import { StateDir } from "../state/state-dir.ts";
import { CounterReader } from "../counters.ts";
import { isManagedPath, managedApi } from "./api.ts";
import { checkIr } from "@switchyard/core";
import { ManagedAgent, ManagedFarms } from "./managed.ts";
import { irHash } from "./schema.ts";

// Managed mode's revision rules and API with nft behind a scripted runner; the kernel side
// is proven in managed.integration.test.ts.

class ScriptedNft implements NftRunner {
  readonly calls: { args: string[]; input: string }[] = [];
  refuse: string | null = null;
  async run(args: readonly string[], input?: string): Promise<RunResult> {
    this.calls.push({ args: [...args], input: input ?? "" });
    if (this.refuse !== null) return { stdout: "", stderr: this.refuse, code: 1 };
    return { stdout: "", stderr: "", code: 0 };
  }
}

const log = createLogger("silent");
const TOKEN = "t".repeat(40);
let dir: string;
let nft: ScriptedNft;
let stateDir: StateDir;
let agent: ManagedAgent;

const irFor = (ports: string): IrRuleset =>
  buildRuleset(parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": ports, backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] }] }), {
    table: "switchyard",
  });
const body = (revision: number, ir: IrRuleset, extra: Record<string, unknown> = {}) => ({ revision, hash: irHash(ir), ir, ...extra });
const applies = () => nft.calls.filter((c) => c.args.join(" ") === "-f -").length;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-managed-"));
  nft = new ScriptedNft();
  stateDir = new StateDir(dir);
  await stateDir.open();
  const applier = new Applier({ driver: new NftDriver(nft), table: "switchyard", checkIr });
  agent = new ManagedAgent({ applier, stateDir, log, controlPlane: "https://cp.example" });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ManagedAgent revision rules", () => {
  it("applies a new revision (check then commit), saves it, then answers", async () => {
    const ir = irFor("80");
    expect(await agent.put(body(1, ir))).toEqual({ status: 200, body: { applied: 1, changed: true } });
    expect(nft.calls.map((c) => c.args.join(" "))).toEqual(["--check -f -", "-f -"]);
    const saved = await stateDir.load();
    expect(saved?.managed).toEqual({ revision: 1, hash: irHash(ir) });
    expect(saved?.ir).toEqual(ir);
    expect(agent.status()).toMatchObject({ mode: "managed", appliedRevision: 1, appliedHash: irHash(ir), lastError: null, table: "switchyard" });
  });

  it("the same revision and hash again is a no-op that does not touch nft", async () => {
    await agent.put(body(1, irFor("80")));
    const before = nft.calls.length;
    expect(await agent.put(body(1, irFor("80")))).toEqual({ status: 200, body: { applied: 1, changed: false } });
    expect(nft.calls.length).toBe(before);
  });

  it("an older revision is 409 unless forced; the same revision with another hash is 409", async () => {
    await agent.put(body(2, irFor("80")));
    expect(await agent.put(body(1, irFor("81")))).toEqual({ status: 409, body: { error: expect.stringMatching(/older than the applied revision 2/), appliedRevision: 2 } });
    expect(await agent.put(body(2, irFor("81")))).toEqual({ status: 409, body: { error: expect.stringMatching(/already applied with another hash/), appliedRevision: 2 } });
    expect(applies()).toBe(1);
    expect(await agent.put(body(1, irFor("81"), { force: true }))).toEqual({ status: 200, body: { applied: 1, changed: true } });
    expect(applies()).toBe(2);
    expect(agent.status().appliedRevision).toBe(1);
    expect((await stateDir.load())?.managed?.revision).toBe(1);
  });

  it("a hash mismatch or an invalid body is 400 and never reaches nft", async () => {
    const ir = irFor("80");
    expect(await agent.put({ ...body(1, ir), hash: irHash(irFor("81")) })).toEqual({ status: 400, body: { error: expect.stringMatching(/^hash mismatch/) } });
    expect(await agent.put({ revision: 0, hash: irHash(ir), ir })).toEqual({ status: 400, body: { error: expect.stringMatching(/revision: must be an integer >= 1/) } });
    expect(nft.calls).toEqual([]);
  });

  it("an IR that fails the rule check is 400 naming the reason; nothing changes", async () => {
    const ir = irFor("80");
    const bad = structuredClone(ir);
    bad.tables[0]?.chains[0]?.rules.push("accept; flush ruleset");
    const answer = await agent.put(body(1, bad));
    expect(answer).toEqual({ status: 400, body: { error: expect.stringMatching(/ruleset refused: .*separator/) } });
    expect(nft.calls).toEqual([]);
    const foreign = { tables: [{ ...ir.tables[0]!, name: "filter" }] };
    expect((await agent.put(body(1, foreign))).status).toBe(400);
    expect(await stateDir.load()).toBeNull();
    expect(agent.status().lastError?.message).toMatch(/not the agent's/);
  });

  it("nft's refusal is 500 with nft's words; revision, state and metrics say so", async () => {
    await agent.put(body(1, irFor("80")));
    const saved = readFileSync(stateDir.file, "utf8");
    nft.refuse = "Error: Could not process rule: No such file or directory\n";
    const answer = await agent.put(body(2, irFor("81")));
    expect(answer).toEqual({ status: 500, body: { error: expect.stringContaining("Could not process rule: No such file or directory") } });
    expect(readFileSync(stateDir.file, "utf8")).toBe(saved);
    expect(agent.status()).toMatchObject({ appliedRevision: 1, lastError: { message: expect.stringContaining("Could not process rule") } });
    const metrics = agent.metrics();
    expect(metrics).toContain("switchyard_agent_applied_revision 1\n");
    expect(metrics).toContain('switchyard_agent_applies_total{result="ok"} 1\n');
    expect(metrics).toContain('switchyard_agent_applies_total{result="error"} 1\n');
    expect(metrics).toMatch(/switchyard_agent_last_apply_duration_seconds \d/);
    expect(metrics).toContain("switchyard_agent_up 1\n");
  });

  it("restore re-applies the saved IR and reports its revision; old state files without `managed` still load", async () => {
    const ir = irFor("80");
    await agent.put(body(3, ir));
    const fresh = new ManagedAgent({ applier: new Applier({ driver: new NftDriver(nft), table: "switchyard" }), stateDir, log, controlPlane: "x" });
    const state = await stateDir.load();
    await fresh.restore(state!);
    expect(fresh.status().appliedRevision).toBe(3);
    expect(nft.calls.at(-1)?.input).toBe(nft.calls.find((c) => c.args.join(" ") === "-f -")?.input);

    const old = JSON.parse(readFileSync(stateDir.file, "utf8"));
    delete old.managed;
    writeFileSync(stateDir.file, JSON.stringify(old));
    const loaded = await stateDir.load();
    expect(loaded?.managed).toBeUndefined();
    expect(loaded?.ir).toEqual(ir);
  });
});

describe("managed API over HTTP", () => {
  let server: JsonServer;
  beforeEach(async () => {
    const v1 = managedApi({ token: TOKEN, agent, log, readFacts: async () => ({ interfaces: [{ name: "eth0", mac: "02:00:00:00:00:01", addresses: [] }], neighbours: [] }) });
    const nftlb = nftlbApi({ key: "k", farms: new ManagedFarms("https://cp.example"), log });
    server = await serveJson({ host: "127.0.0.1", port: 0, log, errorBody }, (req) => (isManagedPath(req.url) ? v1(req) : nftlb(req)));
  });
  afterEach(() => server.close());

  const call = (method: string, path: string, headers: Record<string, string>, payload?: unknown) =>
    new Promise<{ status: number; text: string; type: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: server.port, method, path, headers }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, type: String(res.headers["content-type"]) }));
      });
      req.on("error", reject);
      req.end(payload === undefined ? undefined : JSON.stringify(payload));
    });
  const auth = { Authorization: `Bearer ${TOKEN}` };

  it("needs the bearer token everywhere, metrics included", async () => {
    for (const path of ["/v1/status", "/v1/facts", "/metrics", "/v1/ruleset"]) {
      const none = await call("GET", path, {});
      expect([none.status, JSON.parse(none.text)]).toEqual([401, { error: expect.stringContaining("missing bearer token") }]);
      const wrong = await call("GET", path, { Authorization: `Bearer ${"x".repeat(40)}` });
      expect([wrong.status, JSON.parse(wrong.text)]).toEqual([401, { error: "the token is not valid" }]);
    }
  });

  it("routes PUT /v1/ruleset, GET /v1/status, /v1/facts and /metrics", async () => {
    const put = await call("PUT", "/v1/ruleset", auth, body(1, irFor("80")));
    expect([put.status, JSON.parse(put.text)]).toEqual([200, { applied: 1, changed: true }]);
    const status = await call("GET", "/v1/status", auth);
    expect(JSON.parse(status.text)).toMatchObject({ mode: "managed", appliedRevision: 1, lastError: null, table: "switchyard", uptimeSeconds: expect.any(Number) });
    expect(JSON.parse((await call("GET", "/v1/facts", auth)).text)).toEqual({ interfaces: [{ name: "eth0", mac: "02:00:00:00:00:01", addresses: [] }], neighbours: [] });
    const metrics = await call("GET", "/metrics", auth);
    expect(metrics.type).toMatch(/^text\/plain/);
    expect(metrics.text).toContain("switchyard_agent_applied_revision 1\n");
    expect((await call("POST", "/v1/status", auth)).status).toBe(405);
    expect((await call("GET", "/v1/nope", auth)).status).toBe(404);
    expect([(await call("PUT", "/v1/ruleset", auth, "{")).status]).toEqual([400]);
  });

  it("GET /v1/counters and /metrics report the kernel's counters per farm and backend", async () => {
    const listing = JSON.stringify({
      nftables: [
        { metainfo: { version: "1.0.6" } },
        { counter: { family: "inet", name: "c/web/b2", table: "switchyard", handle: 3, packets: 5, bytes: 300 } },
        { counter: { family: "inet", name: "c/web/b1", table: "switchyard", handle: 2, packets: 7, bytes: 420 } },
        { counter: { family: "inet", name: "c/dns/x", table: "switchyard", handle: 4, packets: 0, bytes: 0 } },
        { counter: { family: "inet", name: "someone-elses", table: "switchyard", handle: 5, packets: 9, bytes: 9 } },
      ],
    });
    const driver = new NftDriver({ run: async (args) => (args.join(" ") === "-j list counters table inet switchyard" ? { stdout: listing, stderr: "", code: 0 } : { stdout: "", stderr: "?", code: 1 }) });
    const v1 = managedApi({ token: TOKEN, agent, log, counters: new CounterReader({ driver, table: "switchyard", now: () => 0 }) });
    await server.close();
    server = await serveJson({ host: "127.0.0.1", port: 0, log, errorBody }, v1);
    const answer = await call("GET", "/v1/counters", auth);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      table: "switchyard",
      readAt: "1970-01-01T00:00:00.000Z",
      readMs: expect.any(Number),
      farms: [
        { name: "dns", connections: 0, backends: [{ name: "x", connections: 0 }] },
        { name: "web", connections: 12, backends: [{ name: "b1", connections: 7 }, { name: "b2", connections: 5 }] },
      ],
    });
    const metrics = (await call("GET", "/metrics", auth)).text;
    expect(metrics).toContain('switchyard_farm_connections_total{farm="web"} 12\n');
    expect(metrics).toContain('switchyard_backend_connections_total{farm="web",backend="b1"} 7\n');
    expect(metrics).toContain('switchyard_backend_connections_total{farm="dns",backend="x"} 0\n');
    expect(metrics).toContain("# TYPE switchyard_backend_connections_total counter\n");
    expect(metrics).not.toContain("someone-elses");
    expect((await call("GET", "/v1/counters", {})).status).toBe(401);
    expect((await call("POST", "/v1/counters", auth)).status).toBe(405);
  });

  it("the nftlb API refuses changes and reads with 409 naming the control plane", async () => {
    const post = await call("POST", "/farms", { Key: "k" }, { farms: [] });
    expect([post.status, JSON.parse(post.text)]).toEqual([409, { response: "error", message: "this agent is managed by https://cp.example; change farms there" }]);
    expect((await call("DELETE", "/farms/web", { Key: "k" })).status).toBe(409);
    const get = await call("GET", "/farms", { Key: "k" });
    expect([get.status, JSON.parse(get.text).message]).toEqual([409, expect.stringContaining("managed by https://cp.example")]);
    expect((await call("GET", "/farms", {})).status).toBe(401);
  });
});
