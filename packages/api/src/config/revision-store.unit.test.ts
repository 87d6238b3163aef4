import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { canonicalJson, parseConfig, safeParseConfig, sha256Hex, toNftlb, type Config } from "@switchyard/core";
import { openDatabase, type Database } from "@switchyard/db";
import { applyLaneStep, laneConfig, laneFarmSpec, laneStep } from "../../../core/src/ruleset/farm-gen.ts";
import { scratchDatabase } from "../testing/database.ts";
import { commitChange } from "./commit.ts";
import { configHash, MAX_CHAIN, readRevisionConfig, revisionColumns, StoredRevisionError } from "./revision-store.ts";

const actor = { id: null, name: "tester", role: "admin" as const };

let db: Database;
let path: string;
let remove: () => Promise<void>;
beforeEach(async () => {
  ({ db, path, remove } = await scratchDatabase());
});
afterEach(async () => remove());

const commit = (to: Config, on: Database = db) => commitChange(on, actor, { action: "config.import" }, () => to);

it("a snapshot, built from per-farm pieces kept across changes, is the canonical JSON of the whole config, and configHash its sha256", () => {
  fc.assert(
    fc.property(fc.array(laneFarmSpec, { minLength: 1, maxLength: 6 }), fc.array(laneStep, { maxLength: 8 }), (specs, steps) => {
      let current = laneConfig(specs);
      for (const step of [null, ...steps]) {
        if (step !== null) {
          const change = applyLaneStep(current, step);
          if (change === undefined) continue;
          current = change.next;
        }
        const { snapshot } = revisionColumns(1, null, current, { deltas: 0, bytes: 0 });
        expect(snapshot).toBe(canonicalJson(toNftlb(current)));
        expect(configHash(current)).toBe(sha256Hex(snapshot ?? ""));
      }
    }),
    { numRuns: 60 },
  );
});

/** Farms no lane step collides with: a config large enough that deltas chain for a while. */
const fillers = parseConfig({
  farms: Array.from({ length: 60 }, (_, i) => ({
    name: `fill${i}`,
    "virtual-addr": `198.19.0.${i + 1}`,
    "virtual-ports": "80",
    backends: [{ name: "b1", "ip-addr": "198.19.1.1", port: "8080" }],
  })),
}).farms;

describe("revisions kept as keyframes and deltas", () => {
  it("makes a keyframe once the deltas since the last would weigh half a snapshot, or be too many", () => {
    const config = { farms: fillers };
    const toggled = { farms: fillers.map((f, i) => (i === 3 ? { ...f, state: "down" as const } : f)) };
    const small = revisionColumns(5, config, toggled, { deltas: 3, bytes: 900 });
    expect(small.snapshot).toBeNull();
    expect(small.delta?.length).toBeLessThan(400);
    const size = revisionColumns(1, null, toggled, { deltas: 0, bytes: 0 }).snapshot?.length ?? 0;
    expect(revisionColumns(5, config, toggled, { deltas: 3, bytes: size / 2 }).snapshot).toBe(canonicalJson(toNftlb(toggled)));
    expect(revisionColumns(300, config, toggled, { deltas: MAX_CHAIN, bytes: 0 }).delta).toBeNull();
  });

  it("gives back every revision's config exactly, across renames, reorders, removals, rollbacks and a restart", { timeout: 60_000 }, async () => {
    const [specs] = fc.sample(fc.array(laneFarmSpec, { minLength: 3, maxLength: 6 }), { numRuns: 1, seed: 7 });
    const steps = fc.sample(laneStep, { numRuns: 400, seed: 11 });
    let current: Config = { farms: [...laneConfig(specs ?? []).farms, ...fillers] };
    const made = new Map<number, string>();
    const record = async (to: Config, on: Database = db) => {
      const outcome = await commit(to, on);
      if (outcome.changed) made.set(outcome.revision, canonicalJson(toNftlb(outcome.config)));
      current = outcome.config;
    };
    await record(current);
    for (const step of steps) {
      if (made.size >= 150) break;
      const change = applyLaneStep(current, step);
      // The API refuses configs that are invalid across farms; so does the test.
      if (change === undefined || !safeParseConfig(toNftlb(change.next)).ok) continue;
      await record(change.next);
      if (made.size % 13 === 0) await record({ farms: [...current.farms].reverse() });
      if (made.size % 17 === 0) {
        const back = await readRevisionConfig(db, Math.max(1, made.size - 9));
        await record(back ?? current);
      }
      if (made.size === 50) {
        // Another process (the CLI) commits with a cold cache: its delta is taken against the
        // parent as stored, order included.
        const other = openDatabase({ path });
        try {
          await record({ farms: [...current.farms].reverse() }, other);
        } finally {
          await other.$disconnect();
        }
      }
    }
    expect(made.size).toBe(150);
    const rows = await db.revision.findMany({ select: { number: true, snapshot: true, delta: true }, orderBy: { number: "asc" } });
    expect(rows.every((r) => (r.snapshot === null) !== (r.delta === null))).toBe(true);
    // Both paths ran: several keyframes, and reads through long chains of deltas.
    const keyframes = rows.filter((r) => r.snapshot !== null).map((r) => r.number);
    expect(keyframes.length).toBeGreaterThan(2);
    const longest = Math.max(...keyframes.map((k, i) => (keyframes[i + 1] ?? rows.length + 1) - k - 1));
    expect(longest).toBeGreaterThan(10);
    // Read back cold (a new handle: nothing cached), every revision.
    const cold = openDatabase({ path });
    try {
      for (const [number, json] of made) {
        const config = await readRevisionConfig(cold, number);
        expect(config === null ? null : canonicalJson(toNftlb(config)), `revision ${number}`).toBe(json);
      }
      expect(await readRevisionConfig(cold, made.size + 1)).toBeNull();
    } finally {
      await cold.$disconnect();
    }
  });

  it("keeps a toggle in a few hundred bytes where the snapshot is hundreds of kilobytes", async () => {
    const farms = Array.from({ length: 500 }, (_, i) => ({
      name: `svc${i}`,
      "virtual-addr": `198.18.${128 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      "virtual-ports": "80",
      backends: [{ name: "b1", "ip-addr": "198.18.2.11", port: "8080" }, { name: "b2", "ip-addr": "198.18.2.12", port: "8080" }],
    }));
    let config = parseConfig({ farms });
    await commit(config);
    for (let i = 0; i < 10; i++) {
      const k = (i * 37) % farms.length;
      config = { farms: config.farms.map((f, j) => (j === k ? { ...f, backends: f.backends.map((b, n) => (n === 0 ? { ...b, state: b.state === "up" ? ("off" as const) : ("up" as const) } : b)) } : f)) };
      await commit(config);
    }
    const rows = await db.revision.findMany({ select: { number: true, snapshot: true, delta: true }, orderBy: { number: "asc" } });
    const snapshotBytes = rows[0]?.snapshot?.length ?? 0;
    expect(snapshotBytes).toBeGreaterThan(100_000);
    for (const row of rows.slice(1)) expect(row.delta?.length ?? Infinity).toBeLessThan(1_000);
    expect(canonicalJson(toNftlb((await readRevisionConfig(db, 11))!))).toBe(canonicalJson(toNftlb(config)));
  });

  it("refuses a delta chain that does not give back the recorded config, naming the revision", async () => {
    const one = { farms: fillers };
    await commit(one);
    await commit({ farms: fillers.map((f, i) => (i === 0 ? { ...f, state: "down" as const } : f)) });
    const row = await db.revision.findUniqueOrThrow({ where: { number: 2 }, select: { delta: true } });
    await db.revision.update({ where: { number: 2 }, data: { delta: row.delta!.replace('"down"', '"up"') } });
    const cold = openDatabase({ path });
    try {
      await expect(readRevisionConfig(cold, 2)).rejects.toThrow(StoredRevisionError);
      await expect(readRevisionConfig(cold, 2)).rejects.toThrow(/revision 2: its snapshot and deltas do not give back/);
      expect(await readRevisionConfig(cold, 1)).not.toBeNull();
    } finally {
      await cold.$disconnect();
    }
  });
});
