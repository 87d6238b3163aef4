// bench/controlplane: the time from a REST change to rules live on every node, at 1, 5 and 10
// nodes (real agents in namespaces) and 100 and 10,000 farms, and the part of it after the REST
// answer (the deploy), next to the same kind of change sent straight to one agent, whole (PUT)
// and as a patch (PATCH) (the agent's own share); and the API's throughput under a storm of
// backend state toggles (none lost, each backend's last toggle wins). Prints medians (min-max).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRuleset, diffIr, irHash, parseConfig, type IrRuleset } from "@switchyard/core";
import { commitChange, Deployer, hashPassword, issueNodeToken, serveControlPlane, type RunningServer } from "@switchyard/api";
import { migrate, openDatabase } from "@switchyard/db";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { summarize, table, type Summary } from "../dataplane/stats.ts";
import { createNode, destroyNodes, startAgent, stateDirOf, type BenchNode } from "./nodes.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const FARMS = flag("--farms", "100,10000").split(",").map(Number);
const NODES = flag("--nodes", "1,5,10").split(",").map(Number);
const CHANGES = Number(flag("--changes", "10"));
const TOGGLES = Number(flag("--toggles", "1000"));
const BACKENDS = ["198.18.2.11", "198.18.2.12", "198.18.2.13", "198.18.2.14"];

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v >= 100 ? 0 : 1)} ms`);
const cell = (s: Summary) => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;

interface Row {
  farms: number;
  nodes: number;
  live: Summary;
  /** From the REST answer (the revision committed) to every node live: the deploy's share. */
  deploy: Summary;
  direct: Summary;
  directPatch: Summary;
}

async function measure(farms: number, dir: string, rows: Row[], storm: { farms: number; perSecond: number; lost: number; bytesPerRevision: number }[]): Promise<void> {
  const path = join(dir, `cp-${farms}.db`);
  await migrate(path);
  const db = openDatabase({ path });
  const key = randomBytes(32);
  const deployer = new Deployer({ db, key, concurrency: 10 });
  const server: RunningServer = await serveControlPlane({ db, deployer, host: "127.0.0.1", port: 0 });
  const nodes: BenchNode[] = [];
  try {
    const user = await db.user.create({ data: { username: "bench", passwordHash: await hashPassword("bench password 0"), role: "admin" } });
    const token = `sy_${randomBytes(32).toString("base64url")}`;
    await db.apiToken.create({ data: { name: "bench", tokenHash: (await import("@switchyard/core")).sha256Hex(token), userId: user.id, role: "operator" } });
    const config = parseConfig(switchyardConfig(planServices(farms, BACKENDS), "weight"));
    const started = performance.now();
    await commitChange(db, { id: user.id, name: "bench", role: "admin" }, { action: "config.import", kind: "import" }, () => config);
    process.stderr.write(`  ${farms} farms imported in ${ms(performance.now() - started)}\n`);

    const rest = (method: string, path: string, body: unknown) =>
      fetch(`${server.url}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => {
        if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
        return (await r.json()) as { revision: number; changed: boolean };
      });

    // The baseline agent, outside the fleet, with the whole config applied once.
    const baseline = await createNode(99);
    nodes.push(baseline);
    const baselineToken = randomBytes(32).toString("base64url");
    writeFileSync(join(dir, "baseline.token"), baselineToken, { mode: 0o600 });
    await startAgent(baseline, join(dir, "baseline.token"), stateDirOf(dir, baseline));
    let baselineRevision = 1;
    let baselineConfig = config;
    {
      const ir = buildRuleset(config, { table: "switchyard" });
      await fetch(new URL("v1/ruleset", `${baseline.url}/`), { method: "PUT", headers: { Authorization: `Bearer ${baselineToken}`, "Content-Type": "application/json" }, body: JSON.stringify({ revision: 1, hash: irHash(ir), ir }) });
    }
    const fleet: BenchNode[] = [];
    let toggle = 0;
    const b1Down = new Set<string>();
    for (const count of NODES) {
      while (fleet.length < count) {
        const node = await createNode(fleet.length);
        nodes.push(node);
        fleet.push(node);
        const issued = issueNodeToken(key);
        await db.node.create({ data: { name: node.ns, url: node.url, tokenHash: issued.hash, tokenSalt: issued.salt } });
        const tokenFile = join(dir, `${node.ns}.token`);
        writeFileSync(tokenFile, issued.token, { mode: 0o600 });
        await startAgent(node, tokenFile, stateDirOf(dir, node));
      }
      const first = performance.now();
      await deployer.deployLatest();
      process.stderr.write(`  ${count} node(s): first deploy ${ms(performance.now() - first)}\n`);

      const live: number[] = [];
      const deploy: number[] = [];
      for (let c = 0; c < CHANGES; c++) {
        const farm = config.farms[(toggle * 7919) % farms]?.name ?? "";
        toggle++;
        // Always a real change: the opposite of what this farm's b1 has now.
        const state = b1Down.has(farm) ? "up" : "down";
        if (state === "down") b1Down.add(farm);
        else b1Down.delete(farm);
        const t = performance.now();
        const applied = new Set<string>();
        const done = new Promise<void>((resolve) => {
          const onEvent = (e: { node: string; status: string; revision: number }) => {
            if (e.status === "applied") applied.add(e.node);
            if (applied.size === count) {
              deployer.off("deployment", onEvent);
              resolve();
            }
          };
          deployer.on("deployment", onEvent);
        });
        await rest("PUT", `/farms/${farm}/backends/b1/state`, { state });
        const answered = performance.now();
        await done;
        live.push(performance.now() - t);
        deploy.push(performance.now() - answered);
      }
      // The agent's own share: the same kind of change PUT straight to an agent the control
      // plane does not know (its revisions would otherwise run ahead of the control plane's).
      // Sent whole (PUT), then as patches of what it has (PATCH), as the control plane sends them.
      const direct: number[] = [];
      const directPatch: number[] = [];
      let current = baselineConfig;
      let applied: IrRuleset | null = null;
      for (let c = 0; c < 2 * CHANGES; c++) {
        const k = (c * 7919 + count) % farms;
        current = { farms: current.farms.map((f, i) => (i === k ? { ...f, backends: f.backends.map((b, j) => (j === 1 ? { ...b, state: b.state === "up" ? ("down" as const) : ("up" as const) } : b)) } : f)) };
        const ir = buildRuleset(current, { table: "switchyard" });
        const whole = c < CHANGES || applied === null;
        const body = JSON.stringify(
          whole ? { revision: ++baselineRevision, hash: irHash(ir), ir } : { revision: ++baselineRevision, baseHash: irHash(applied as IrRuleset), hash: irHash(ir), patch: diffIr(applied as IrRuleset, ir) },
        );
        const t = performance.now();
        const r = await fetch(new URL("v1/ruleset", `${baseline.url}/`), { method: whole ? "PUT" : "PATCH", headers: { Authorization: `Bearer ${baselineToken}`, "Content-Type": "application/json" }, body });
        if (!r.ok) throw new Error(`direct ${whole ? "PUT" : "PATCH"}: ${r.status} ${await r.text()}`);
        (c < CHANGES ? direct : directPatch).push(performance.now() - t);
        applied = ir;
      }
      baselineConfig = current;
      rows.push({ farms, nodes: count, live: summarize(live), deploy: summarize(deploy), direct: summarize(direct), directPatch: summarize(directPatch) });
    }

    // The storm: TOGGLES state changes from 16 clients at once, each on its own backends in order.
    const before = await db.revision.count();
    const keys = Array.from({ length: 16 }, (_, k) => config.farms[(k * 37) % farms]?.name ?? "");
    const last = new Map<string, string>();
    const t = performance.now();
    await Promise.all(
      keys.map(async (farm, k) => {
        for (let i = k; i < TOGGLES; i += keys.length) {
          const state = Math.floor(i / keys.length) % 2 === 0 ? "off" : "up";
          await rest("PUT", `/farms/${farm}/backends/b2/state`, { state });
          last.set(farm, state);
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    await deployer.deployLatest();
    const made = (await db.revision.count()) - before;
    const final = (await db.backend.findMany({ where: { name: "b2", farm: { name: { in: keys } } }, include: { farm: true } })).map((b) => [b.farm.name, (JSON.parse(b.config) as { state: string }).state]);
    const wrong = final.filter(([farm, state]) => last.get(farm ?? "") !== state).length;
    // What the storm's revisions keep in the database (keyframes and deltas), per revision.
    const [stored] = await db.$queryRawUnsafe<{ bytes: number | bigint | null }[]>(
      "SELECT SUM(LENGTH(COALESCE(snapshot, '')) + LENGTH(COALESCE(delta, ''))) AS bytes FROM Revision WHERE number > ?",
      before,
    );
    storm.push({ farms, perSecond: TOGGLES / seconds, lost: TOGGLES - made + wrong, bytesPerRevision: Number(stored?.bytes ?? 0) / Math.max(1, made) });
  } finally {
    deployer.stop();
    await server.close();
    await destroyNodes(nodes);
    await db.$disconnect();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-cp-"));
  const rows: Row[] = [];
  const storm: { farms: number; perSecond: number; lost: number; bytesPerRevision: number }[] = [];
  process.stderr.write(`bench/controlplane: farms ${FARMS.join(", ")}, nodes ${NODES.join(", ")}, ${CHANGES} changes each, ${TOGGLES} toggles\n`);
  try {
    for (const farms of FARMS) await measure(farms, dir, rows, storm);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nbench/controlplane — a backend state change through REST until every node has it live; median (min–max) of ${CHANGES}`);
  console.log(
    table(
      ["farms", "nodes", "REST change → live on all nodes", "of which REST answer → live", "same change PUT straight to one agent", "… PATCHed straight to one agent", "ratio (to the PUT)"],
      rows.map((r) => [r.farms.toLocaleString("en"), String(r.nodes), cell(r.live), cell(r.deploy), cell(r.direct), cell(r.directPatch), `${(r.live.median / r.direct.median).toFixed(1)}×`]),
      [true, true, true, true, true, true, true],
    ),
  );
  console.log(`\nstorm: ${TOGGLES} backend state toggles from 16 concurrent clients`);
  const size = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes.toFixed(0)} B`);
  console.log(
    table(
      ["farms", "toggles/s", "lost or out of order", "stored per revision"],
      storm.map((s) => [s.farms.toLocaleString("en"), s.perSecond.toFixed(0), String(s.lost), size(s.bytesPerRevision)]),
      [true, true, true, true],
    ),
  );
}

await main();
