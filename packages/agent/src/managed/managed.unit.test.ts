import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildRuleset, checkPatchedIr, diffIr, parseConfig, type IrPatch, type IrRuleset } from "@switchyard/core";
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
  const applier = new Applier({ driver: new NftDriver(nft), table: "switchyard", checkIr, checkPatch: checkPatchedIr });
  agent = new ManagedAgent({ applier, stateDir, log, controlPlane: "https://cp.example" });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ManagedAgent revision rules", () => {
  it("applies a new revision (check then commit), saves it, then answers", async () => {
    const ir = irFor("80");
    expect(await agent.put(body(1, ir))).toEqual({ status: 200, body: { applied: 1, changed: true } });
    expect(nft.calls.map((c) => c.args.join(" "))).toEqual(["-f -"]);
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

describe("ManagedAgent PATCH (a patch of the applied ruleset)", () => {
  const farms = (ports: string, state: "up" | "down" = "up") =>
    buildRuleset(
      parseConfig({
        farms: [
          { name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": ports, backends: [{ name: "b1", "ip-addr": "198.18.2.11" }, { name: "b2", "ip-addr": "198.18.2.12", state }] },
          { name: "api", "virtual-addr": "198.18.1.101", "virtual-ports": "443", backends: [{ name: "b1", "ip-addr": "198.18.2.13" }] },
        ],
      }),
      { table: "switchyard" },
    );
  const patchBody = (revision: number, from: IrRuleset, to: IrRuleset, extra: Record<string, unknown> = {}) => ({
    revision,
    baseHash: irHash(from),
    hash: irHash(to),
    patch: JSON.parse(JSON.stringify(diffIr(from, to))) as IrPatch,
    ...extra,
  });
  const scripts = () => nft.calls.filter((c) => c.args.join(" ") === "-f -").map((c) => c.input);

  it("applies the patch as a delta of what changed, saves it as a journal line, and reports the new revision and hash", async () => {
    const [a, b] = [farms("80"), farms("80", "down")];
    await agent.put(body(1, a));
    const before = nft.calls.length;
    expect(await agent.patch(patchBody(2, a, b))).toEqual({ status: 200, body: { applied: 2, changed: true } });
    // One transaction, no check first: the web farm's scheduler chain flushed and refilled, nothing else.
    expect(nft.calls.slice(before).map((c) => c.args.join(" "))).toEqual(["-f -"]);
    expect(scripts().at(-1)).toMatch(/^flush chain inet switchyard sched-web-4\nadd rule inet switchyard sched-web-4 .*\n$/);
    expect(agent.status()).toMatchObject({ appliedRevision: 2, appliedHash: irHash(b), lastError: null, lastApply: { kind: "delta" } });
    const journal = readFileSync(join(dir, "journal.ndjson"), "utf8");
    expect(journal.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(journal).patch.ir).toEqual(diffIr(a, b));
    const saved = await stateDir.load();
    expect([saved?.managed, saved?.ir]).toEqual([{ revision: 2, hash: irHash(b) }, b]);
  });

  it("a base other than the applied ruleset is 409 naming both hashes; nothing reaches nft", async () => {
    const [a, b, c] = [farms("80"), farms("81"), farms("82")];
    const none = await agent.patch(patchBody(1, a, b));
    expect(none).toEqual({ status: 409, body: { error: expect.stringMatching(/^base mismatch: the patch is for ruleset [0-9a-f]{64}, this agent has no ruleset/), appliedRevision: null, appliedHash: null } });
    await agent.put(body(1, a));
    const before = nft.calls.length;
    const answer = await agent.patch(patchBody(2, b, c));
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({ error: `base mismatch: the patch is for ruleset ${irHash(b)}, this agent has ruleset ${irHash(a)} (revision 1); send the whole ruleset (PUT /v1/ruleset)`, appliedRevision: 1, appliedHash: irHash(a) });
    expect(nft.calls.length).toBe(before);
    expect(agent.status().appliedRevision).toBe(1);
  });

  it("keeps the revision rules of PUT: the same revision and hash again is a no-op; older or same-with-another-hash is 409 unless forced", async () => {
    const [a, b, c] = [farms("80"), farms("81"), farms("82")];
    await agent.put(body(2, a));
    expect((await agent.patch(patchBody(3, a, b))).status).toBe(200);
    const before = nft.calls.length;
    // A retry whose first answer was lost: its base is no longer applied, its result is.
    expect(await agent.patch(patchBody(3, a, b))).toEqual({ status: 200, body: { applied: 3, changed: false } });
    expect(await agent.patch(patchBody(2, b, c))).toEqual({ status: 409, body: { error: expect.stringMatching(/older than the applied revision 3/), appliedRevision: 3 } });
    expect(await agent.patch(patchBody(3, b, c))).toEqual({ status: 409, body: { error: expect.stringMatching(/already applied with another hash/), appliedRevision: 3 } });
    expect(nft.calls.length).toBe(before);
    expect(await agent.patch(patchBody(3, b, c, { force: true }))).toEqual({ status: 200, body: { applied: 3, changed: true } });
    expect(agent.status().appliedHash).toBe(irHash(c));
  });

  it("a wrong hash, a patch that does not fit, or a malformed body is 400 and changes nothing", async () => {
    const [a, b] = [farms("80"), farms("81")];
    await agent.put(body(1, a));
    const before = nft.calls.length;
    const wrong = await agent.patch({ ...patchBody(2, a, b), hash: irHash(farms("82")) });
    expect(wrong).toEqual({ status: 400, body: { error: expect.stringMatching(/^hash mismatch: the patched ruleset's canonical JSON hashes to [0-9a-f]{64}, the request says/) } });
    const misfit = await agent.patch({ ...patchBody(2, a, b), patch: { tables: [{ family: "inet", chains: { remove: ["nope"] } }] } });
    expect(misfit).toEqual({ status: 400, body: { error: expect.stringMatching(/^the patch does not fit ruleset [0-9a-f]{64}, which this agent has: cannot remove chain nope/) } });
    const malformed = await agent.patch({ ...patchBody(2, a, b), patch: { tables: [{ family: "inet", chains: { put: [{ name: "x", rules: [], script: "flush ruleset" }] } }] } });
    expect(malformed).toEqual({ status: 400, body: { error: expect.stringMatching(/^invalid ruleset patch: patch\.tables\.0/) } });
    expect(nft.calls.length).toBe(before);
    expect(agent.status()).toMatchObject({ appliedRevision: 1, appliedHash: irHash(a) });
    expect((await stateDir.load())?.managed?.revision).toBe(1);
  });

  it("a hostile patch is refused as a hostile ruleset is, with the guard's reason; a good one after it applies", async () => {
    const [a, b] = [farms("80"), farms("80", "down")];
    await agent.put(body(1, a));
    const hostile = structuredClone(b) as IrRuleset;
    hostile.tables[0]?.chains.find((c) => c.name === "farm-web-4")?.rules.push("accept; delete table inet filter");
    const before = nft.calls.length;
    const answer = await agent.patch(patchBody(2, a, hostile));
    expect(answer).toEqual({ status: 400, body: { error: expect.stringMatching(/^ruleset refused: table inet switchyard, chain farm-web-4, rule \d+ .*separator/) } });
    const removed = structuredClone(a) as IrRuleset;
    removed.tables[0]!.chains = removed.tables[0]!.chains.filter((c) => c.name !== "farm-api-4");
    expect(await agent.patch(patchBody(2, a, removed))).toEqual({ status: 400, body: { error: expect.stringMatching(/jumps to "farm-api-4", which is not a chain/) } });
    expect(nft.calls.length).toBe(before);
    expect(agent.status()).toMatchObject({ appliedRevision: 1, lastError: { message: expect.stringMatching(/farm-api-4/) } });
    expect(await agent.patch(patchBody(2, a, b))).toEqual({ status: 200, body: { applied: 2, changed: true } });
  });

  it("after a restart, patches apply on the ruleset restored from the state dir (snapshot and journal)", async () => {
    const [a, b, c] = [farms("80"), farms("80", "down"), farms("81", "down")];
    await agent.put(body(1, a));
    await agent.patch(patchBody(2, a, b));
    await stateDir.close();
    const reopened = new StateDir(dir);
    await reopened.open();
    const state = await reopened.load();
    const applier = new Applier({ driver: new NftDriver(nft), table: "switchyard", checkIr, checkPatch: checkPatchedIr });
    const fresh = new ManagedAgent({ applier, stateDir: reopened, log, controlPlane: "x" });
    await fresh.restore(state!);
    expect(fresh.status()).toMatchObject({ appliedRevision: 2, appliedHash: irHash(b) });
    const before = nft.calls.length;
    expect(await fresh.patch(patchBody(3, b, c))).toEqual({ status: 200, body: { applied: 3, changed: true } });
    expect(nft.calls.slice(before).map((call) => call.args.join(" "))).toEqual(["-f -"]);
    await reopened.close();
    const again = new StateDir(dir);
    expect(await again.load()).toMatchObject({ managed: { revision: 3, hash: irHash(c) }, ir: c });
    // The journal holds the patches as lines after the snapshot of revision 1.
    expect(readFileSync(join(dir, "journal.ndjson"), "utf8").trim().split("\n")).toHaveLength(2);
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
    for (const [method, path] of [["GET", "/v1/status"], ["GET", "/v1/facts"], ["GET", "/metrics"], ["GET", "/v1/ruleset"], ["PUT", "/v1/ruleset"], ["PATCH", "/v1/ruleset"]] as const) {
      const none = await call(method, path, {});
      expect([none.status, JSON.parse(none.text)]).toEqual([401, { error: expect.stringContaining("missing bearer token") }]);
      const wrong = await call(method, path, { Authorization: `Bearer ${"x".repeat(40)}` });
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
    const patched = irFor("81");
    const patch = await call("PATCH", "/v1/ruleset", auth, { revision: 2, baseHash: irHash(irFor("80")), hash: irHash(patched), patch: diffIr(irFor("80"), patched) });
    expect([patch.status, JSON.parse(patch.text)]).toEqual([200, { applied: 2, changed: true }]);
    const post = await call("POST", "/v1/ruleset", auth, {});
    expect([post.status, JSON.parse(post.text)]).toEqual([405, { error: "method POST is not allowed on /v1/ruleset (allowed: PUT, PATCH)" }]);
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
        { counter: { family: "inet", name: "t/web/b1", table: "switchyard", handle: 6, packets: 70, bytes: 42_000 } },
        { counter: { family: "inet", name: "t/web/b2", table: "switchyard", handle: 7, packets: 50, bytes: 30_000 } },
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
        { name: "dns", connections: 0, packets: 0, bytes: 0, backends: [{ name: "x", connections: 0, packets: 0, bytes: 0 }] },
        {
          name: "web",
          connections: 12,
          packets: 120,
          bytes: 72_000,
          backends: [
            { name: "b1", connections: 7, packets: 70, bytes: 42_000 },
            { name: "b2", connections: 5, packets: 50, bytes: 30_000 },
          ],
        },
      ],
    });
    const metrics = (await call("GET", "/metrics", auth)).text;
    expect(metrics).toContain('switchyard_farm_connections_total{farm="web"} 12\n');
    expect(metrics).toContain('switchyard_backend_connections_total{farm="web",backend="b1"} 7\n');
    expect(metrics).toContain('switchyard_backend_connections_total{farm="dns",backend="x"} 0\n');
    expect(metrics).toContain("# TYPE switchyard_backend_connections_total counter\n");
    expect(metrics).toContain('switchyard_farm_packets_total{farm="web"} 120\n');
    expect(metrics).toContain('switchyard_backend_packets_total{farm="web",backend="b1"} 70\n');
    expect(metrics).toContain('switchyard_farm_bytes_total{farm="web"} 72000\n');
    expect(metrics).toContain('switchyard_backend_bytes_total{farm="web",backend="b2"} 30000\n');
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
