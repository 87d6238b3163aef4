import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { diffIr, irHash, patchIr, type IrPatch, type IrRuleset } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TRPCError } from "@trpc/server";
import { describeError } from "../errors.ts";
import { createCaller } from "../router.ts";
import { scratchDatabase } from "../testing/database.ts";
import { chooseCanary, Deployer, type DeploymentEvent } from "./deployer.ts";
import { FleetRenderer } from "./render.ts";

// diffIr watched (and still run): the deployer diffs once per pair of rulesets, not per node.
vi.mock("@switchyard/core", async (importOriginal) => {
  const core = await importOriginal<typeof import("@switchyard/core")>();
  return { ...core, diffIr: vi.fn(core.diffIr) };
});

// The deployer against a real SQLite file and fake agents over real HTTP on loopback: farms
// placed by node labels reach only their nodes, a change is sent only to the nodes it
// changes, a relabel moves farms, and a staged deploy stops at a failed canary. (The kernel
// side, real agents in namespaces, is fleet.integration.test.ts.)

interface Put {
  /** PUT (the whole ruleset) or PATCH (a patch of the applied one). */
  method: "PUT" | "PATCH";
  revision: number;
  hash: string;
  force: boolean;
  farms: string[];
  /** The request body's size. */
  bytes: number;
}

const farmsOf = (ir: IrRuleset) => [...new Set(ir.tables.flatMap((t) => t.chains.map((c) => /^farm-(.+)-\d$/.exec(c.name)?.[1]).filter((n): n is string => n !== undefined)))];

/**
 * An agent's managed API as far as the deployer sees it: PUT and PATCH /v1/ruleset (with the
 * revision rules, and PATCH only on top of the applied ruleset) and GET /v1/status.
 */
class FakeAgent {
  applied: { revision: number; hash: string; ir: IrRuleset } | null = null;
  puts: Put[] = [];
  /** Every ruleset request's method, those refused included. */
  requests: string[] = [];
  /** When set, PUT and PATCH answer this status (500: the agent could not apply; 400: it refused the ruleset). */
  failWith: number | null = null;
  /** When set, PATCH answers this status (404: an agent from before PATCH). */
  patchFailWith: number | null = null;
  /** When set, GET /v1/status fails too (the agent is as good as unreachable). */
  down = false;
  private server: Server | null = null;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        const answer = (status: number, json: unknown) => {
          res.writeHead(status, { "Content-Type": "application/json" });
          res.end(JSON.stringify(json));
        };
        if (req.method === "GET" && req.url === "/v1/status") {
          if (this.down) return answer(503, { error: "down" });
          return answer(200, { appliedRevision: this.applied?.revision ?? null, appliedHash: this.applied?.hash ?? null, lastError: null, nftVersion: "fake", drift: null });
        }
        if ((req.method !== "PUT" && req.method !== "PATCH") || req.url !== "/v1/ruleset") return answer(404, { error: "no such route" });
        this.requests.push(req.method);
        const request = JSON.parse(body) as { revision: number; hash: string; ir?: IrRuleset; baseHash?: string; patch?: IrPatch; force?: boolean };
        const { revision, hash, force = false } = request;
        const current = this.applied;
        let ir: IrRuleset;
        if (req.method === "PATCH") {
          if (this.patchFailWith !== null) return answer(this.patchFailWith, { error: "no PATCH here" });
          if (current === null || current.hash !== request.baseHash) {
            return answer(409, { error: `base mismatch: the patch is for ruleset ${request.baseHash}, this agent has ${current?.hash ?? "none"}`, appliedRevision: current?.revision ?? null });
          }
          ir = patchIr(current.ir, request.patch as IrPatch);
          if (irHash(ir) !== hash) return answer(400, { error: "hash mismatch" });
        } else ir = request.ir as IrRuleset;
        this.puts.push({ method: req.method, revision, hash, force, farms: farmsOf(ir), bytes: body.length });
        if (this.failWith !== null) return answer(this.failWith, { error: "nft refused the ruleset; nothing was changed: fake" });
        if (current !== null && !force) {
          if (revision === current.revision && hash !== current.hash) return answer(409, { error: `revision ${revision} is already applied with another hash`, appliedRevision: current.revision });
          if (revision < current.revision) return answer(409, { error: `revision ${revision} is older`, appliedRevision: current.revision });
        }
        this.applied = { revision, hash, ir };
        return answer(200, { applied: revision, changed: true });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** The farms of the ruleset it applied. */
  get farms(): string[] | undefined {
    return this.applied === null ? undefined : farmsOf(this.applied.ir);
  }

  /** The methods of its last `n` requests. */
  methods(n: number): string[] {
    return this.puts.slice(-n).map((p) => p.method);
  }
}

let db: Database;
let remove: () => Promise<void>;
let deployer: Deployer;
const key = randomBytes(32);
let agents: Record<string, FakeAgent>;
const alice = { id: 1, name: "alice", role: "admin" } as const;
const admin = () => createCaller({ db, actor: alice, deployer });
/** Changes without the deploy each change starts, so that a test runs (and sees) each deploy itself. */
const quiet = () => createCaller({ db, actor: alice });

const farm = (name: string, port: string, placement?: string) => ({
  name,
  "virtual-addr": "198.18.1.100",
  "virtual-ports": port,
  backends: [{ name: "b1", "ip-addr": "198.18.2.11" }],
  ...(placement === undefined ? {} : { "x-placement": placement }),
});

beforeEach(async () => {
  ({ db, remove } = await scratchDatabase());
  await db.user.create({ data: { username: "alice", passwordHash: "x", role: "admin" } });
  deployer = new Deployer({ db, key, attempts: 2, backoffMs: [1] });
  agents = { lb1: new FakeAgent(), lb2: new FakeAgent(), lb3: new FakeAgent() };
  const labels: Record<string, Record<string, string>> = { lb1: { role: "edge", zone: "a" }, lb2: { role: "edge", zone: "b" }, lb3: { role: "core" } };
  for (const [name, agent] of Object.entries(agents)) {
    await agent.start();
    await admin().nodes.add({ name, url: agent.url, labels: labels[name] ?? {} });
  }
});
afterEach(async () => {
  for (const agent of Object.values(agents)) await agent.stop();
  await remove();
});

/** The deploy of the latest revision that follows changes (after the run in progress, if any). */
const settle = () => deployer.deployLatest();

const statusOf = (outcomes: { node: string; status: string }[]) => Object.fromEntries(outcomes.map((o) => [o.node, o.status]));

describe("farms placed by labels", () => {
  it("each node gets the farms placed on it; a change goes only to the nodes whose ruleset it changes", async () => {
    await quiet().farms.create({ farm: farm("web", "80", "role=edge") });
    await quiet().farms.create({ farm: farm("dns", "53") });
    await settle();
    expect([agents.lb1?.farms, agents.lb2?.farms, agents.lb3?.farms]).toEqual([["web", "dns"], ["web", "dns"], ["dns"]]);

    const lb3Puts = agents.lb3?.puts.length;
    const { revision } = await quiet().backends.setState({ farm: "web", name: "b1", state: "down" });
    const outcomes = await settle();
    expect(statusOf(outcomes)).toEqual({ lb1: "applied", lb2: "applied", lb3: "skipped" });
    expect(agents.lb3?.puts.length).toBe(lb3Puts);
    expect((await admin().deployments.list({ revision })).map((d) => d.node.name).sort()).toEqual(["lb1", "lb2"]);
    // lb3 runs an older revision, which is what it should run: up to date.
    const nodes = await admin().nodes.list();
    expect(nodes.map((n) => [n.name, n.appliedRevision, n.desiredRevision, n.upToDate])).toEqual([
      ["lb1", revision, revision, true],
      ["lb2", revision, revision, true],
      ["lb3", revision - 1, revision, true],
    ]);

    // The explicit deploy still goes to every node (a retry, or a check that all answer).
    expect(statusOf(await admin().deployments.deploy())).toEqual({ lb1: "applied", lb2: "applied", lb3: "applied" });
  });

  it("a placement change moves the farm: the nodes it leaves and the nodes it reaches are deployed", async () => {
    await quiet().farms.create({ farm: farm("web", "80", "zone=a") });
    await settle();
    expect([agents.lb1?.farms, agents.lb2?.farms, agents.lb3?.farms]).toEqual([["web"], [], []]);
    const diff = await quiet().farms.update({ name: "web", attributes: { "x-placement": "zone=b" } });
    expect(statusOf(await settle())).toEqual({ lb1: "applied", lb2: "applied", lb3: "skipped" });
    expect([agents.lb1?.farms, agents.lb2?.farms, agents.lb3?.farms]).toEqual([[], ["web"], []]);
    expect((await admin().revisions.diff({ from: diff.revision - 1, to: diff.revision })).farms).toEqual([
      { name: "web", change: "changed", fields: [{ field: "x-placement", before: "zone=a", after: "zone=b" }], backends: [] },
    ]);
    // Rollback is the whole config, placement included.
    await quiet().revisions.rollback({ to: 1 });
    await settle();
    expect([agents.lb1?.farms, agents.lb2?.farms]).toEqual([["web"], []]);
    expect((await admin().farms.get({ name: "web" })).farm["x-placement"]).toBe("zone=a");
  });

  it("a relabelled node gets its new ruleset at the same revision (with force: the agent has that revision already)", async () => {
    await quiet().farms.create({ farm: farm("web", "80", "role=edge") });
    await settle();
    expect(agents.lb3?.farms).toEqual([]);
    const set = await quiet().nodes.setLabels({ name: "lb3", labels: { role: "edge" } });
    expect(set).toEqual({ name: "lb3", labels: { role: "edge" }, farms: ["web"] });
    expect(statusOf(await settle())).toEqual({ lb1: "skipped", lb2: "skipped", lb3: "applied" });
    expect(agents.lb3?.farms).toEqual(["web"]);
    expect(agents.lb3?.puts.at(-1)).toMatchObject({ revision: 1, force: true });
    expect((await admin().audit.list({})).map((e) => e.action)).toContain("node.labels");
    // Through the API with a deployer, a relabel starts the deploy itself.
    await admin().nodes.setLabels({ name: "lb3", labels: { role: "core" } });
    await settle();
    expect(agents.lb3?.farms).toEqual([]);

    // When the control plane's record is behind the agent's (an answer it never heard), the
    // agent's 409 names the revision it has, and the deploy goes again with force.
    await db.node.update({ where: { name: "lb1" }, data: { appliedRevision: null, appliedHash: null } });
    await quiet().nodes.setLabels({ name: "lb1", labels: { role: "core" } });
    expect(statusOf(await settle())).toMatchObject({ lb1: "applied" });
    expect(agents.lb1?.puts.slice(-2).map((p) => p.force)).toEqual([false, true]);
    expect(agents.lb1?.farms).toEqual([]);
  });

  it("refuses bad labels and bad selectors field by field, writing nothing", async () => {
    const labels = await admin().nodes.setLabels({ name: "lb1", labels: { "bad key": "x" } }).catch((e: unknown) => e);
    expect((labels as { code: string }).code).toBe("BAD_REQUEST");
    // As a client reads it (the error formatter's message), field by field.
    expect(describeError(labels as TRPCError)).toMatch(/^labels\.bad key: label key "bad key" must be/);
    const selector = await quiet().farms.create({ farm: farm("web", "80", "role") }).catch((e: unknown) => e);
    expect((selector as Error).message).toMatch(/^farm "web", x-placement = "role": "role" is not key=value/);
    expect(await db.revision.count()).toBe(0);
    expect((await admin().nodes.list()).find((n) => n.name === "lb1")?.labels).toEqual({ role: "edge", zone: "a" });
  });
});

describe("patches", () => {
  const ready = async () => {
    await quiet().farms.create({ farm: farm("web", "80", "role=edge") });
    await quiet().farms.create({ farm: farm("dns", "53") });
    await settle();
  };
  const methods = () => Object.fromEntries(Object.entries(agents).map(([name, a]) => [name, a.requests.join(" ")]));
  const clear = () => Object.values(agents).forEach((a) => (a.requests = []));

  it("a change goes to each node as the patch of the ruleset it applied, diffed and serialized once for nodes that share both", async () => {
    // The first deploy of this control plane knows no node's ruleset: whole.
    await ready();
    expect(methods()).toEqual({ lb1: "PUT", lb2: "PUT", lb3: "PUT" });
    clear();
    const diffs = vi.mocked(diffIr).mock.calls.length;
    await quiet().backends.setState({ farm: "web", name: "b1", state: "down" });
    expect(statusOf(await settle())).toEqual({ lb1: "applied", lb2: "applied", lb3: "skipped" });
    expect(methods()).toEqual({ lb1: "PATCH", lb2: "PATCH", lb3: "" });
    // lb1 and lb2 had the same ruleset and get the same one.
    expect(vi.mocked(diffIr).mock.calls.length - diffs).toBe(1);
    const [put, patch] = [agents.lb1?.puts.at(-2), agents.lb1?.puts.at(-1)];
    expect(patch).toMatchObject({ method: "PATCH", farms: ["web", "dns"], revision: 3 });
    expect(patch?.bytes).toBeLessThan(put?.bytes ?? 0);
    expect((await admin().nodes.list()).map((n) => [n.name, n.appliedRevision, n.upToDate])).toEqual([
      ["lb1", 3, true],
      ["lb2", 3, true],
      ["lb3", 2, true],
    ]);
  });

  it("a node that has another ruleset than the base answers 409: it is sent whole in the same try, and patched again after", async () => {
    await ready();
    // lb1's agent got another ruleset behind this control plane's back (its record does not know).
    const lb1 = agents.lb1 as FakeAgent;
    const other = { tables: [] };
    lb1.applied = { revision: 2, hash: irHash(other), ir: other };
    clear();
    const { revision } = await quiet().backends.setState({ farm: "web", name: "b1", state: "down" });
    const outcomes = await settle();
    expect(outcomes.find((o) => o.node === "lb1")).toMatchObject({ status: "applied", attempts: 1 });
    expect(methods()).toMatchObject({ lb1: "PATCH PUT", lb2: "PATCH" });
    expect([lb1.applied?.revision, lb1.farms]).toEqual([revision, ["web", "dns"]]);
    expect((await admin().deployments.list({ revision, node: "lb1" }))[0]).toMatchObject({ status: "applied", attempts: 1, error: null });
    clear();
    await quiet().backends.setState({ farm: "web", name: "b1", state: "up" });
    await settle();
    expect(methods()).toMatchObject({ lb1: "PATCH", lb2: "PATCH" });
  });

  it("a patch refused for any other reason (400, 500) is sent whole in the same try; an agent without PATCH (404) is sent whole from then on", async () => {
    await ready();
    (agents.lb1 as FakeAgent).patchFailWith = 400;
    (agents.lb2 as FakeAgent).patchFailWith = 404;
    clear();
    await quiet().backends.setState({ farm: "web", name: "b1", state: "down" });
    expect(statusOf(await settle())).toMatchObject({ lb1: "applied", lb2: "applied" });
    expect(methods()).toMatchObject({ lb1: "PATCH PUT", lb2: "PATCH PUT" });
    (agents.lb1 as FakeAgent).patchFailWith = null;
    clear();
    await quiet().backends.setState({ farm: "web", name: "b1", state: "up" });
    await settle();
    expect(methods()).toMatchObject({ lb1: "PATCH", lb2: "PUT" });
    expect([agents.lb1?.farms, agents.lb2?.farms]).toEqual([["web", "dns"], ["web", "dns"]]);
  });

  it("after a restart (a new deployer) the first deploy to each node is whole, the next ones patches; a node that did not answer is patched again", async () => {
    await ready();
    deployer = new Deployer({ db, key, attempts: 2, backoffMs: [1] });
    clear();
    await quiet().backends.setState({ farm: "dns", name: "b1", state: "down" });
    await settle();
    expect(methods()).toEqual({ lb1: "PUT", lb2: "PUT", lb3: "PUT" });
    clear();
    const lb3 = agents.lb3 as FakeAgent;
    await lb3.stop();
    await quiet().backends.setState({ farm: "dns", name: "b1", state: "up" });
    const outcomes = await settle();
    expect(statusOf(outcomes)).toEqual({ lb1: "applied", lb2: "applied", lb3: "failed" });
    expect(outcomes[2]?.error).toMatch(/^PATCH http:\/\/127\.0\.0\.1:\d+\/v1\/ruleset: /);
    await lb3.start();
    await db.node.update({ where: { name: "lb3" }, data: { url: lb3.url } });
    expect(statusOf(await deployer.reconcile())).toEqual({ lb1: "skipped", lb2: "skipped", lb3: "applied" });
    expect(methods()).toEqual({ lb1: "PATCH", lb2: "PATCH", lb3: "PATCH" });
    expect(lb3.farms).toEqual(["dns"]);
  });
});

describe("staged deploys", () => {
  it("picks the canary by the canary=true label, else the first by name", () => {
    const n = (name: string, labels: Record<string, string> = {}) => ({ name, labels });
    expect(chooseCanary([n("lb2"), n("lb1"), n("lb3")])?.name).toBe("lb1");
    expect(chooseCanary([n("lb1"), n("lb3", { canary: "true" }), n("lb2", { canary: "true" })])?.name).toBe("lb2");
    expect(chooseCanary([n("lb1", { canary: "yes" }), n("lb0")])?.name).toBe("lb0");
    expect(chooseCanary([])).toBeUndefined();
  });

  it("a failed canary holds the others: not sent, a held row and event each naming the canary's error; once it applies, all follow", async () => {
    await quiet().farms.create({ farm: farm("web", "80") });
    await settle();
    const events: DeploymentEvent[] = [];
    deployer.on("deployment", (e: DeploymentEvent) => events.push(e));
    const sent = Object.fromEntries(Object.entries(agents).map(([name, a]) => [name, a.puts.length]));

    (agents.lb1 as FakeAgent).failWith = 500;
    const { revision } = await quiet().backends.setState({ farm: "web", name: "b1", state: "down" });
    const outcomes = await deployer.deployLatest({ canary: true });
    expect(outcomes.map((o) => [o.node, o.status, o.canary ?? false])).toEqual([
      ["lb1", "failed", true],
      ["lb2", "held", false],
      ["lb3", "held", false],
    ]);
    expect(outcomes[1]?.error).toMatch(/^held: the canary node lb1 did not apply revision \d+: PUT http:\/\/127\.0\.0\.1:\d+\/v1\/ruleset: HTTP 500: nft refused the ruleset/);
    expect([agents.lb2?.puts.length, agents.lb3?.puts.length]).toEqual([sent.lb2, sent.lb3]);
    expect(events.filter((e) => e.status === "held").map((e) => e.node)).toEqual(["lb2", "lb3"]);
    expect(events.find((e) => e.node === "lb1")?.canary).toBe(true);
    const rows = await admin().deployments.list({ revision });
    expect(rows.filter((d) => d.status === "held").map((d) => d.node.name).sort()).toEqual(["lb2", "lb3"]);

    // A staging reconcile does not carry the revision past the canary either, and holds the
    // same rows again rather than adding one per reconcile.
    const staged = new Deployer({ db, key, attempts: 1, canary: true });
    expect(statusOf(await staged.reconcile())).toEqual({ lb1: "failed", lb2: "held", lb3: "held" });
    expect((await admin().deployments.list({ revision })).filter((d) => d.status === "held")).toHaveLength(2);
    expect([agents.lb2?.puts.length, agents.lb3?.puts.length]).toEqual([sent.lb2, sent.lb3]);
    expect((await admin().nodes.list()).map((n) => n.upToDate)).toEqual([false, false, false]);
    // A control plane that does not stage by default still holds a revision a canary held,
    // also when the canary does not even answer.
    expect(statusOf(await deployer.reconcile())).toEqual({ lb1: "failed", lb2: "held", lb3: "held" });
    (agents.lb1 as FakeAgent).down = true;
    const unreachable = await deployer.reconcile();
    expect(statusOf(unreachable)).toEqual({ lb1: "failed", lb2: "held", lb3: "held" });
    expect(unreachable[1]?.error).toMatch(/^held: the canary node lb1 did not apply revision \d+: GET http:\/\/127\.0\.0\.1:\d+\/v1\/status: HTTP 503/);
    expect([agents.lb2?.puts.length, agents.lb3?.puts.length]).toEqual([sent.lb2, sent.lb3]);

    (agents.lb1 as FakeAgent).down = false;
    (agents.lb1 as FakeAgent).failWith = null;
    expect(statusOf(await staged.reconcile())).toEqual({ lb1: "applied", lb2: "applied", lb3: "applied" });
    expect((await admin().nodes.list()).map((n) => n.upToDate)).toEqual([true, true, true]);
  });

  it("the control plane's default (serve --canary) stages the deploys that follow changes", async () => {
    deployer = new Deployer({ db, key, attempts: 1, canary: true });
    await admin().nodes.setLabels({ name: "lb3", labels: { role: "core", canary: "true" } });
    (agents.lb3 as FakeAgent).failWith = 400;
    await admin().farms.create({ farm: farm("web", "80") });
    const outcomes = await settle();
    expect(outcomes.map((o) => [o.node, o.status])).toEqual([
      ["lb1", "held"],
      ["lb2", "held"],
      ["lb3", "failed"],
    ]);
    // A call may ask for an unstaged deploy.
    expect(statusOf(await admin().deployments.deploy({ canary: false }))).toEqual({ lb1: "applied", lb2: "applied", lb3: "failed" });
  });
});

describe("the fleet renderer", () => {
  it("renders nodes that get the same farms with the same facts once", async () => {
    await quiet().farms.create({ farm: farm("web", "80", "role=edge") });
    const { readRevisionConfig } = await import("../config/revision-store.ts");
    const config = (await readRevisionConfig(db, 1))!;
    const renderer = new FleetRenderer(config);
    const a = renderer.render({ labels: JSON.stringify({ role: "edge", zone: "a" }), facts: null });
    const b = renderer.render({ labels: JSON.stringify({ role: "edge", zone: "b" }), facts: null });
    const c = renderer.render({ labels: JSON.stringify({ role: "core" }), facts: null });
    expect(b).toBe(a);
    expect(c.hash).not.toBe(a.hash);
    expect(c.hash).toBe(irHash(c.ir));
    // Labels that do not parse place only the farms that go to every node.
    expect(renderer.render({ labels: "not json", facts: null }).hash).toBe(c.hash);
  });
});
