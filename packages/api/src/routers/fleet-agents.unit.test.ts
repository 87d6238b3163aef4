import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "@switchyard/db";
import { Deployer } from "../deploy/deployer.ts";
import { createCaller } from "../router.ts";
import { freePort, startScriptedAgent, type ScriptedAgent } from "../testing/agent.ts";
import { scratchDatabase } from "../testing/database.ts";
import { farmInput } from "../testing/farms.ts";
import { refusal } from "../testing/refusals.ts";
import type { Actor } from "../trpc.ts";

// The fleet procedures the dashboard's Nodes, Deploys and Traffic pages use, against real
// agent daemons over real HTTP (nft scripted, see testing/agent.ts) and one node whose agent
// does not listen: live status, counters per node and summed, drift check and repair, a
// per-node retry, and errors that name the node and its URL.

let db: Database;
let remove: () => Promise<void>;
let deployer: Deployer;
let agents: ScriptedAgent[] = [];
let deadUrl: string;

const as = (role: Actor["role"] = "admin") => createCaller({ db, actor: { id: 1, name: "alice", role }, deployer });

/** Changes committed where nothing deploys them (as by a control plane that stopped before its deploy): the test deploys. */
const undeployed = () => createCaller({ db, actor: { id: 1, name: "alice", role: "admin" } });

const web = farmInput("web", "198.18.1.100");

beforeEach(async () => {
  ({ db, remove } = await scratchDatabase());
  await db.user.create({ data: { username: "alice", passwordHash: "x", role: "admin" } });
  deployer = new Deployer({ db, key: randomBytes(32), attempts: 2, backoffMs: [10], timeoutMs: 2_000 });
  agents = [];
  for (const name of ["lb1", "lb2"]) {
    const port = await freePort();
    const { token } = await as().nodes.add({ name, url: `http://127.0.0.1:${port}`, labels: { site: "a" } });
    agents.push(await startScriptedAgent(token, port));
  }
  // Nothing listens there: the port was free a moment ago and is not taken again.
  deadUrl = `http://127.0.0.1:${await freePort()}`;
  await as().nodes.add({ name: "lb3", url: deadUrl });
  await undeployed().farms.create({ farm: web, message: "web" });
  await deployer.deployLatest();
});

afterEach(async () => {
  for (const agent of agents) await agent.stop();
  await remove();
});

describe("nodes.status", () => {
  it("answers for every node at once: what its agent runs, or why it did not answer (naming the node and URL); what answered is recorded", async () => {
    await db.node.updateMany({ data: { lastSeenAt: null } });
    const { nodes, at } = await as("viewer").nodes.status();
    expect(Number.isNaN(Date.parse(at))).toBe(false);
    expect(nodes.map((n) => [n.name, n.ok])).toEqual([
      ["lb1", true],
      ["lb2", true],
      ["lb3", false],
    ]);
    expect(nodes[0]).toMatchObject({ ok: true, value: { appliedRevision: 1, lastError: null, nftVersion: "nftables v1.0.6 (Lester Gooch #5)", drift: { drifted: null } } });
    const dead = nodes[2];
    expect(dead?.ok === false && dead.error).toMatch(new RegExp(`^node "lb3": its agent cannot be reached: GET ${deadUrl}/v1/status: .*ECONNREFUSED`));
    const stored = await as("viewer").nodes.list();
    expect(stored.map((n) => [n.name, n.lastSeenAt !== null, n.appliedRevision, n.upToDate])).toEqual([
      ["lb1", true, 1, true],
      ["lb2", true, 1, true],
      ["lb3", false, null, false],
    ]);
    expect(stored[0]?.labels).toEqual({ site: "a" });
  });
});

describe("agents that answer but cannot serve", () => {
  it("an agent holding another token, and a URL where something else answers, are told apart", async () => {
    const port = await freePort();
    await as().nodes.add({ name: "lb4", url: `http://127.0.0.1:${port}` });
    agents.push(await startScriptedAgent("x".repeat(43), port));
    const other = createServer((_req, res) => res.writeHead(404, { "Content-Type": "text/html" }).end(""));
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      await as().nodes.add({ name: "lb5", url });
      const { nodes } = await as().nodes.status();
      const errors = Object.fromEntries(nodes.flatMap((n) => (n.ok ? [] : [[n.name, n.error]])));
      expect(errors.lb4).toMatch(/^node "lb4": its agent refused the node token \(GET http:\/\/127\.0\.0\.1:\d+\/v1\/status: HTTP 401: the token is not valid\); the agent must run with the token issued when the node was added$/);
      expect(errors.lb5).toBe(`node "lb5": GET ${url}/v1/status: HTTP 404, not JSON: (an empty body); is ${url} the address of a switchyard agent?`);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

describe("nodes.counters", () => {
  it("new connections, packets and bytes per node and summed over the nodes that answered; a node that did not answer is reported, not thrown", async () => {
    // The scripted kernel gives each counter 60 bytes a packet; traffic counts in the traffic set's elements, one per backend here.
    const [b1, b2] = ["198.18.2.11", "198.18.2.12"].map((backend) => `198.18.1.100 . tcp . 80 . ${backend} . 8080`) as [string, string];
    agents[0]?.kernel.counters.set("c/web/b1", 5).set("c/web/b2", 3);
    agents[0]?.kernel.elements.set(b1, 50).set(b2, 30);
    agents[1]?.kernel.counters.set("c/web/b1", 2).set("c/web/b2", 0);
    agents[1]?.kernel.elements.set(b1, 20).set(b2, 0);
    const counters = await as("viewer").nodes.counters();
    expect(counters.farms).toEqual([
      {
        name: "web",
        connections: 10,
        packets: 100,
        bytes: 6000,
        backends: [
          { name: "b1", connections: 7, packets: 70, bytes: 4200 },
          { name: "b2", connections: 3, packets: 30, bytes: 1800 },
        ],
      },
    ]);
    expect(counters.nodes.map((n) => (n.ok ? [n.name, n.value.farms[0]?.connections] : [n.name, n.error]))).toEqual([
      ["lb1", 8],
      ["lb2", 2],
      ["lb3", expect.stringMatching(new RegExp(`^node "lb3": its agent cannot be reached: GET ${deadUrl}/v1/counters: `))],
    ]);
  });
});

describe("nodes.checkDrift and nodes.repair", () => {
  it("a table removed behind the agent's back is drift; repair puts it back, is recorded and audited", async () => {
    expect(await as("operator").nodes.checkDrift({ name: "lb1" })).toMatchObject({ drifted: false, differences: [] });
    const kernel = agents[0]?.kernel;
    const applied = kernel?.table;
    if (kernel) kernel.table = null;
    const found = await as("operator").nodes.checkDrift({ name: "lb1" });
    expect(found).toMatchObject({ drifted: true, differences: ["table inet switchyard is missing"], repairs: 0 });
    expect((await as("viewer").nodes.list()).find((n) => n.name === "lb1")?.drift).toBe(true);

    const repaired = await as("operator").nodes.repair({ name: "lb1" });
    expect(repaired).toMatchObject({ drifted: false, differences: [], repairs: 1 });
    expect(kernel?.table).toBe(applied);
    expect((await as("viewer").nodes.list()).find((n) => n.name === "lb1")?.drift).toBe(false);
    const audit = await db.auditEvent.findFirst({ where: { action: "node.repair" } });
    expect(audit).toMatchObject({ actorName: "alice", entityType: "node", entityName: "lb1" });
  });

  it("an agent that cannot be reached is a 502 naming the node and URL; a viewer may not repair; an unknown node is 404", async () => {
    const unreachable = await refusal(as("operator").nodes.repair({ name: "lb3" }));
    expect(unreachable.code).toBe("BAD_GATEWAY");
    expect(unreachable.message).toMatch(new RegExp(`^node "lb3": its agent cannot be reached: POST ${deadUrl}/v1/repair: .*ECONNREFUSED`));
    expect((await refusal(as("viewer").nodes.repair({ name: "lb1" }))).code).toBe("FORBIDDEN");
    expect((await refusal(as("operator").nodes.checkDrift({ name: "nope" }))).code).toBe("NOT_FOUND");
  });
});

describe("deployments.retry and reconcile", () => {
  it("retry deploys the latest revision to that node only; the failed node's deploy keeps the agent's words; unknown nodes are 404", async () => {
    const failed = await as("viewer").deployments.list({ node: "lb3" });
    expect(failed[0]).toMatchObject({ revisionNumber: 1, status: "failed", attempts: 2, revision: { message: "web", authorName: "alice", kind: "change" } });
    expect(failed[0]?.error).toMatch(new RegExp(`^PUT ${deadUrl}/v1/ruleset: `));

    await undeployed().backends.setState({ farm: "web", name: "b2", state: "down" });
    const outcome = await as("operator").deployments.retry({ node: "lb2" });
    expect(outcome).toMatchObject({ node: "lb2", revision: 2, status: "applied", attempts: 1 });
    expect((await as("viewer").nodes.list()).map((n) => [n.name, n.appliedRevision])).toEqual([
      ["lb1", 1],
      ["lb2", 2],
      ["lb3", null],
    ]);
    expect((await as("operator").deployments.retry({ node: "lb3" })).status).toBe("failed");
    expect((await refusal(as("operator").deployments.retry({ node: "nope" }))).code).toBe("NOT_FOUND");
    expect((await refusal(as("viewer").deployments.retry({ node: "lb1" }))).code).toBe("FORBIDDEN");
  });

  it("a reconcile clears the error of a node that runs the latest revision again", async () => {
    await db.node.update({ where: { name: "lb1" }, data: { lastError: "GET http://127.0.0.1:1/v1/status: connect ECONNREFUSED" } });
    const outcomes = await deployer.reconcile();
    expect(outcomes.map((o) => [o.node, o.status])).toEqual([
      ["lb1", "skipped"],
      ["lb2", "skipped"],
      ["lb3", "failed"],
    ]);
    const nodes = await as("viewer").nodes.list();
    expect(nodes.map((n) => [n.name, n.lastError === null])).toEqual([
      ["lb1", true],
      ["lb2", true],
      ["lb3", false],
    ]);
  });
});
