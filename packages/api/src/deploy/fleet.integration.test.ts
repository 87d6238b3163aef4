import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import { irHash } from "@switchyard/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, listRuleset, type RunningAgent } from "@switchyard/agent/testing";
import { createLab, type HostLink, type Lab } from "@switchyard/netlab";
import { migrate, openDatabase, type Database } from "@switchyard/db";
import { controlPlaneKey, dataDir, type DataDir } from "../cli/data-dir.ts";
import { createCaller } from "../router.ts";
import { Deployer } from "./deployer.ts";

// The control plane and a fleet of two load-balancer nodes, each a real agent in its own
// netlab balancer namespace reached over real HTTP: farms created and changed through the API
// reach both kernels, traffic follows, rollback restores the old rules, a node that was down
// catches up, and a refused change touches neither the database nor any node. A farm placed
// by labels reaches only its node and moves with a relabel; a staged deploy whose canary
// fails leaves the other node's kernel as it was. Once the control plane has seen a node apply a
// ruleset, it sends the next one as a patch of it; a node whose ruleset changed behind its back
// refuses the patch and gets the whole ruleset; a restarted node takes patches of the ruleset
// it restored from its state dir.

const VIP = "198.18.1.100";
let labs: Lab[] = [];
let links: HostLink[] = [];
let dir: string;
let data: DataDir;
let db: Database;
let deployer: Deployer;
let server: ChildProcess | null = null;
const agents: (RunningAgent | undefined)[] = [];
const tokenFiles: string[] = [];

const api = () => createCaller({ db, actor: { id: 1, name: "alice", role: "admin" }, deployer, publicUrl: "http://cp.test" });
/** How node `i`'s agent applied the ruleset of `revision`: "put" or "patch" (from its log). */
function appliedVia(i: number, revision: number): string[] {
  return (agents[i]?.stderr() ?? "")
    .split("\n")
    .filter((line) => line.includes('"msg":"ruleset applied"'))
    .map((line) => JSON.parse(line) as { revision: number; via: string })
    .filter((entry) => entry.revision === revision)
    .map((entry) => entry.via);
}

/** Changes that start no deploy of their own: the test deploys them as it says. */
const quiet = () => createCaller({ db, actor: { id: 1, name: "alice", role: "admin" } });

async function startNode(i: number): Promise<void> {
  const lab = labs[i] as Lab;
  agents[i] = await startAgent(lab, {
    stateDir: join(dir, `state-${i}`),
    port: 5555,
    args: ["--managed", "--token-file", tokenFiles[i] ?? "", "-H", links[i]?.balancerAddr ?? "", "--drift-interval", "0"],
  });
}

const web = () => ({
  name: "web",
  "virtual-addr": VIP,
  "virtual-ports": "80",
  scheduler: "rr",
  backends: (labs[0] as Lab).backends.map((b) => ({ name: b.name, "ip-addr": b.ipv4[0], port: "8080" })),
});

async function traffic(lab: Lab, count = 20): Promise<Record<string, number>> {
  const tally = await lab.connect({ target: VIP, port: 80, proto: "tcp", count });
  expect(tally.failed).toBe(0);
  return tally.byBackend;
}

beforeAll(async () => {
  labs = await Promise.all([createLab({ backends: 2 }), createLab({ backends: 2 })]);
  await Promise.all(labs.map((lab) => lab.startServers({ tcpPorts: [8080] })));
  links = await Promise.all(labs.map((lab) => lab.linkHost()));
  dir = mkdtempSync(join(tmpdir(), "switchyard-fleet-"));
  // A data dir as bin/switchyard keeps it, so that the last test can run the real server on it.
  data = dataDir(join(dir, "control-plane"));
  await migrate(data.database);
  db = openDatabase({ path: data.database });
  await db.user.create({ data: { username: "alice", passwordHash: "x", role: "admin" } });
  deployer = new Deployer({ db, key: controlPlaneKey(data), backoffMs: [100, 300], attempts: 3, timeoutMs: 10_000 });
  for (const [i, link] of links.entries()) {
    const added = await api().nodes.add({ name: `lb${i + 1}`, url: `http://${link.balancerAddr}:5555` });
    expect(added.agentCommand).toContain("--managed --token-file");
    const file = join(dir, `token-${i}`);
    writeFileSync(file, `${added.token}\n`, { mode: 0o600 });
    tokenFiles.push(file);
    await startNode(i);
  }
});

afterAll(async () => {
  for (const agent of agents) await agent?.stop("SIGKILL");
  if (server !== null && server.exitCode === null) server.kill("SIGKILL");
  await Promise.all(labs.map((lab) => lab.destroy()));
  await db?.$disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a fleet of two nodes behind the control plane", () => {
  it("a farm created through the API is deployed to both nodes; real connections through each reach both backends", async () => {
    // Live progress, as the dashboard follows it.
    const events = (await api().deployments.events())[Symbol.asyncIterator]();
    const seen: { node: string; status: string }[] = [];
    const following = (async () => {
      while (seen.filter((e) => e.status === "applied").length < 2) {
        const next = await events.next();
        if (next.done) break;
        seen.push({ node: next.value.node, status: next.value.status });
      }
      await events.return?.();
    })();
    expect(await api().farms.create({ farm: web(), message: "web" })).toEqual({ revision: 1, changed: true });
    await following;
    expect(seen.filter((e) => e.node === "lb1").map((e) => e.status)).toEqual(["applying", "applied"]);
    expect(seen.filter((e) => e.node === "lb2").map((e) => e.status)).toEqual(["applying", "applied"]);
    const outcomes = await api().deployments.deploy();
    expect(outcomes.map((o) => [o.node, o.revision, o.status]), JSON.stringify(outcomes)).toEqual([
      ["lb1", 1, "applied"],
      ["lb2", 1, "applied"],
    ]);
    for (const lab of labs) expect(await traffic(lab)).toEqual({ b1: 10, b2: 10 });
    const nodes = await api().nodes.list();
    expect(nodes.map((n) => [n.name, n.appliedRevision, n.upToDate])).toEqual([
      ["lb1", 1, true],
      ["lb2", 1, true],
    ]);
  });

  it("the dashboard's fleet reads: each kernel's counters, summed; drift made by hand found and repaired; every agent's live status", async () => {
    // The first test sent 20 connections through each node, 10 to each backend.
    const counters = await api().nodes.counters();
    // Packets and bytes too, both ways: each connection's handshake, request, answer and close (some bytes each way).
    const counted = { packets: expect.any(Number), bytes: expect.any(Number) };
    const onNode = { name: "web", connections: 20, ...counted, backends: [{ name: "b1", connections: 10, ...counted }, { name: "b2", connections: 10, ...counted }] };
    expect(counters.nodes.map((n) => (n.ok ? [n.name, n.value.farms] : [n.name, n.error]))).toEqual([
      ["lb1", [onNode]],
      ["lb2", [onNode]],
    ]);
    expect(counters.farms).toEqual([{ name: "web", connections: 40, ...counted, backends: [{ name: "b1", connections: 20, ...counted }, { name: "b2", connections: 20, ...counted }] }]);
    for (const node of counters.nodes) {
      if (!node.ok) continue;
      for (const b of node.value.farms[0]?.backends ?? []) {
        // At least a SYN, a SYN-ACK, an ACK and a FIN each way for every one of its 10 connections.
        expect(b.packets, `${node.name}/${b.name}`).toBeGreaterThanOrEqual(10 * 6);
        expect(b.bytes, `${node.name}/${b.name}`).toBeGreaterThanOrEqual(b.packets * 40);
      }
    }
    const sum = (pick: (b: { packets: number; bytes: number }) => number) => counters.nodes.reduce((n, node) => n + (node.ok ? (node.value.farms[0]?.backends ?? []).reduce((m, b) => m + pick(b), 0) : 0), 0);
    expect(counters.farms[0]?.packets).toBe(sum((b) => b.packets));
    expect(counters.farms[0]?.bytes).toBe(sum((b) => b.bytes));

    expect(await api().nodes.checkDrift({ name: "lb1" })).toMatchObject({ drifted: false });
    const lab = labs[0] as Lab;
    const flushed = await lab.exec(lab.balancer.ns, ["nft", "flush", "chain", "inet", "switchyard", "farm-web-4"]);
    expect(flushed.stderr).toBe("");
    const found = await api().nodes.checkDrift({ name: "lb1" });
    expect(found.drifted).toBe(true);
    expect(found.differences).toEqual(["table inet switchyard: chain farm-web-4 has 0 rules, expected 4"]);
    expect((await api().nodes.status()).nodes.map((n) => (n.ok ? [n.name, n.value.appliedRevision, n.value.drift?.drifted] : [n.name, n.error]))).toEqual([
      ["lb1", 1, true],
      ["lb2", 1, null],
    ]);
    expect((await api().nodes.list()).map((n) => [n.name, n.drift])).toEqual([
      ["lb1", true],
      ["lb2", false],
    ]);

    expect(await api().nodes.repair({ name: "lb1" })).toMatchObject({ drifted: false, differences: [], repairs: 1 });
    expect(await traffic(lab)).toEqual({ b1: 10, b2: 10 });
    // The repair (a full replace) carried the counters over.
    const after = await api().nodes.counters();
    expect(after.nodes[0]?.ok === true && after.nodes[0].value.farms[0]?.connections).toBe(40);
  });

  it("a backend set down is followed on both nodes; a rollback brings the old rules back as a new revision", async () => {
    // lb1's ruleset replaced behind the control plane's back (same revision, forced): the patch
    // the deployer sends it next does not fit, so lb1 refuses it and gets the whole ruleset.
    const token = readFileSync(tokenFiles[0] ?? "", "utf8").trim();
    const empty = { tables: [] };
    const replaced = await fetch(`http://${links[0]?.balancerAddr}:5555/v1/ruleset`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ revision: 1, hash: irHash(empty), ir: empty, force: true }),
    });
    expect(replaced.status).toBe(200);
    const { revision } = await api().backends.setState({ farm: "web", name: "b2", state: "down", baseRevision: 1 });
    await api().deployments.deploy();
    for (const lab of labs) expect(await traffic(lab, 10)).toEqual({ b1: 10 });
    expect([appliedVia(0, revision), appliedVia(1, revision)]).toEqual([["put"], ["patch"]]);
    const before = await listRuleset(labs[0] as Lab);

    expect(await api().revisions.rollback({ to: 1 })).toEqual({ revision: 3, changed: true });
    await api().deployments.deploy();
    for (const lab of labs) expect(await traffic(lab)).toEqual({ b1: 10, b2: 10 });
    expect(await listRuleset(labs[0] as Lab)).not.toBe(before);
    const three = await api().revisions.get({ number: 3 });
    expect([three.kind, three.message]).toEqual(["rollback", "rollback to revision 1"]);
    expect((await api().revisions.diff({ from: 2, to: 3 })).farms[0]?.backends).toEqual([{ name: "b2", change: "changed", fields: [{ field: "state", before: "down", after: "up" }] }]);
    // What the rollback does to lb1's kernel, as nft text: b2 (id 1) drawn from again in the
    // farm's scheduler chain; the farm chain, with b2's dnat rule all along, does not change.
    const rendered = await api().revisions.renderedDiff({ from: 2, to: 3, node: "lb1" });
    expect(rendered.diff).toMatch(/^-\t\tct mark set numgen random mod 1 offset 0xc0000000$/m);
    expect(rendered.diff).toMatch(/^\+\t\tct mark set numgen inc mod 2 offset 0xc0000000$/m);
    expect(rendered.diff).not.toMatch(/^[-+].*dnat/m);
  });

  it("a node that was down fails its deploy, then catches up when it is back", async () => {
    await agents[1]?.stop("SIGTERM");
    agents[1] = undefined;
    await api().backends.setState({ farm: "web", name: "b1", state: "off" });
    const outcomes = await api().deployments.deploy();
    expect(outcomes.map((o) => [o.node, o.status])).toEqual([
      ["lb1", "applied"],
      ["lb2", "failed"],
    ]);
    // No answer: the patch is sent again (it would be a no-op had the agent applied it unheard).
    expect(outcomes[1]?.error).toMatch(/^PATCH http:\/\/198\.19\.\d+\.\d+:5555\/v1\/ruleset: /);
    expect(outcomes[1]?.attempts).toBe(3);
    const failed = await api().deployments.list({ node: "lb2", revision: 4 });
    expect(failed[0]).toMatchObject({ status: "failed", attempts: 3 });
    expect((await api().nodes.list()).find((n) => n.name === "lb2")).toMatchObject({ appliedRevision: 3, upToDate: false });

    await startNode(1);
    const reconciled = await api().deployments.reconcile();
    expect(reconciled.map((o) => [o.node, o.status])).toEqual([
      ["lb1", "skipped"],
      ["lb2", "applied"],
    ]);
    for (const lab of labs) expect(await traffic(lab, 10)).toEqual({ b2: 10 });
    // The restarted agent took the patch on top of the ruleset it restored from its state dir.
    expect(appliedVia(1, 4)).toEqual(["patch"]);
  });

  it("a refused change (conflict, bad address, viewer) changes neither the database nor any node", async () => {
    const rules = await Promise.all(labs.map((lab) => listRuleset(lab)));
    const revisions = await db.revision.count();
    const stale = await api().farms.update({ name: "web", attributes: { scheduler: "weight" }, baseRevision: 1 }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(TRPCError);
    expect((stale as TRPCError).code).toBe("CONFLICT");
    const bad = await api().backends.upsert({ farm: "web", backend: { name: "b9", "ip-addr": "not-an-address" } }).catch((e: unknown) => e);
    expect((bad as TRPCError).code).toBe("BAD_REQUEST");
    const viewer = createCaller({ db, actor: { id: null, name: "victor", role: "viewer" }, deployer });
    expect(((await viewer.backends.setState({ farm: "web", name: "b1", state: "up" }).catch((e: unknown) => e)) as TRPCError).code).toBe("FORBIDDEN");
    await api().deployments.deploy();
    expect(await db.revision.count()).toBe(revisions);
    expect(await Promise.all(labs.map((lab) => listRuleset(lab)))).toEqual(rules);
  });

  it("the control plane killed (SIGKILL) right after a change, before its deploy: restarted, every node converges", async () => {
    const { token } = await api().tokens.create({ name: "crash-test", role: "operator", owner: "alice" });
    const BIN = join(import.meta.dirname, "../../../../bin/switchyard");
    const serve = async (reconcile: string): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(BIN, ["serve", "--data-dir", data.dir, "-P", "0", "--reconcile", reconcile, "--no-web"], { stdio: ["ignore", "ignore", "pipe"] });
      server = child;
      let err = "";
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`switchyard serve did not start:\n${err}`)), 30_000);
        child.stderr?.setEncoding("utf8").on("data", (d: string) => {
          err += d;
          const found = /control plane on (http:\/\/\S+)/.exec(err)?.[1];
          if (found !== undefined) {
            clearTimeout(timer);
            resolve(found);
          }
        });
      });
      return { child, url };
    };
    const first = await serve("0");
    const before = (await api().nodes.list()).map((n) => n.appliedRevision);
    const response = await fetch(`${first.url}/api/v1/farms/web/backends/b1/state`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ state: "up" }),
    });
    const { revision } = (await response.json()) as { revision: number };
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));
    expect(revision).toBeGreaterThan(before[0] ?? 0);

    const second = await serve("1");
    const deadline = Date.now() + 20_000;
    let applied: (number | null)[] = [];
    while (Date.now() < deadline) {
      applied = (await api().nodes.list()).map((n) => n.appliedRevision);
      if (applied.every((r) => r === revision)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(applied).toEqual([revision, revision]);
    for (const lab of labs) expect(await traffic(lab)).toEqual({ b1: 10, b2: 10 });
    second.child.kill("SIGTERM");
    await new Promise((resolve) => second.child.once("exit", resolve));
  });

  it("a farm placed on lb1 (zone=a) is in lb1's kernel only and serves there; relabelled, it moves to lb2", async () => {
    await api().nodes.setLabels({ name: "lb1", labels: { zone: "a" } });
    await api().nodes.setLabels({ name: "lb2", labels: { zone: "b" } });
    const { revision } = await quiet().farms.create({ farm: { ...web(), name: "edge", "virtual-ports": "81", "x-placement": "zone=a" }, message: "edge on zone a" });
    const outcomes = await deployer.deployLatest();
    expect(outcomes.map((o) => [o.node, o.revision, o.status])).toEqual([
      ["lb1", revision, "applied"],
      ["lb2", revision, "skipped"],
    ]);
    const edgeTraffic = (lab: Lab) => lab.connect({ target: VIP, port: 81, proto: "tcp", count: 10 });
    expect((await edgeTraffic(labs[0] as Lab)).byBackend).toEqual({ b1: 5, b2: 5 });
    const service = /chain farm-edge-4|\. 81 : goto/;
    expect(await listRuleset(labs[0] as Lab)).toMatch(service);
    expect(await listRuleset(labs[1] as Lab)).not.toMatch(service);
    // lb2 did not get this revision at all, and is up to date: it runs what it should.
    expect((await api().nodes.list()).map((n) => [n.name, n.appliedRevision === revision, n.upToDate])).toEqual([
      ["lb1", true, true],
      ["lb2", false, true],
    ]);

    // The relabel is not a revision: lb2 gets the farm at the revision it is at, lb1 loses it
    // at the revision it already has (sent with force).
    await quiet().nodes.setLabels({ name: "lb1", labels: { zone: "b" } });
    await quiet().nodes.setLabels({ name: "lb2", labels: { zone: "a" } });
    expect((await deployer.deployLatest()).map((o) => [o.node, o.revision, o.status])).toEqual([
      ["lb1", revision, "applied"],
      ["lb2", revision, "applied"],
    ]);
    expect((await edgeTraffic(labs[1] as Lab)).byBackend).toEqual({ b1: 5, b2: 5 });
    expect(await listRuleset(labs[0] as Lab)).not.toMatch(service);
    expect(await listRuleset(labs[1] as Lab)).toMatch(service);
    // web, on every node, kept serving on both throughout.
    for (const lab of labs) expect(await traffic(lab, 10)).toEqual({ b1: 5, b2: 5 });
  });

  it("a staged deploy whose canary (lb1) is down holds lb2: its kernel and traffic unchanged, held rows and events say why; the canary back, both follow", async () => {
    await agents[0]?.stop("SIGTERM");
    agents[0] = undefined;
    const { revision } = await quiet().backends.setState({ farm: "web", name: "b2", state: "down", message: "drain b2" });
    const lb2Rules = await listRuleset(labs[1] as Lab);
    const events: { node: string; status: string; canary?: boolean }[] = [];
    const follow = (e: { node: string; status: string; canary?: boolean }) => events.push(e);
    deployer.on("deployment", follow);
    const outcomes = await api().deployments.deploy({ canary: true });
    deployer.off("deployment", follow);
    expect(outcomes.map((o) => [o.node, o.status, o.canary ?? false])).toEqual([
      ["lb1", "failed", true],
      ["lb2", "held", false],
    ]);
    expect(outcomes[1]?.error).toMatch(new RegExp(`^held: the canary node lb1 did not apply revision ${revision}: (PUT|PATCH) http://198\\.19\\.\\d+\\.\\d+:5555/v1/ruleset: `));
    expect(events.filter((e) => e.node === "lb2")).toEqual([expect.objectContaining({ node: "lb2", status: "held" })]);
    expect(events.filter((e) => e.node === "lb1").every((e) => e.canary === true)).toBe(true);
    expect((await api().deployments.list({ revision })).map((d) => [d.node.name, d.status])).toEqual([
      ["lb2", "held"],
      ["lb1", "failed"],
    ]);
    expect(await listRuleset(labs[1] as Lab)).toBe(lb2Rules);
    expect(await traffic(labs[1] as Lab, 10)).toEqual({ b1: 5, b2: 5 });

    // The canary back: a reconcile stays staged for the held revision, lb1 first, then lb2.
    await startNode(0);
    expect((await api().deployments.reconcile()).map((o) => [o.node, o.status])).toEqual([
      ["lb1", "applied"],
      ["lb2", "applied"],
    ]);
    expect(await traffic(labs[1] as Lab, 10)).toEqual({ b1: 10 });
    expect((await api().nodes.list()).map((n) => n.upToDate)).toEqual([true, true]);
  });
});
