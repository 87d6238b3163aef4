import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildRuleset, parseConfig } from "@switchyard/core";
import { JOURNAL_FILE, SNAPSHOT_EVERY, StateDir, StateError, STATE_FILE, writeFileAtomic, type AgentState } from "./state-dir.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "switchyard-state-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function state(vip: string): AgentState {
  const config = parseConfig({ farms: [{ name: "web", "virtual-addr": vip, "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11", weight: 3 }] }] });
  return { config, ir: buildRuleset(config), appliedAt: "2026-01-01T00:00:00.000Z" };
}

describe("writeFileAtomic", () => {
  it("replaces the file's content and leaves no temp file behind", async () => {
    await writeFileAtomic(root, "f.json", "one");
    await writeFileAtomic(root, "f.json", "two");
    expect(readFileSync(join(root, "f.json"), "utf8")).toBe("two");
    expect(readdirSync(root)).toEqual(["f.json"]);
    expect(statSync(join(root, "f.json")).mode & 0o777).toBe(0o600);
  });

  it("removes its temp file when the rename fails", async () => {
    // A directory stands where the file should go: the temp file is written, the rename fails.
    mkdirSync(join(root, "f.json"));
    writeFileSync(join(root, "f.json", "inside"), "");
    await expect(writeFileAtomic(root, "f.json", "new")).rejects.toThrow();
    expect(readdirSync(root)).toEqual(["f.json"]);
  });
});

describe("StateDir", () => {
  it("creates its directory with mode 0700 and has no state at first", async () => {
    const dir = join(root, "a", "b");
    const sd = new StateDir(dir);
    await sd.open();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(await sd.load()).toBeNull();
  });

  it("round-trips config, ruleset and time", async () => {
    const sd = new StateDir(root);
    await sd.open();
    const saved = state("198.18.1.100");
    await sd.save(saved);
    expect(await new StateDir(root).load()).toEqual(saved);
    const file = JSON.parse(readFileSync(join(root, STATE_FILE), "utf8")) as { version: number; config: { farms: { backends: { weight: unknown }[] }[] } };
    expect(file.version).toBe(1);
    // The config is kept in nftlb's own format.
    expect(file.config.farms[0]?.backends[0]?.weight).toBe("3");
  });

  it("saves one at a time, in order: the last save wins", async () => {
    const sd = new StateDir(root);
    await sd.open();
    const saves = Array.from({ length: 20 }, (_, i) => sd.save(state(`198.18.1.${i + 1}`)));
    await Promise.all(saves);
    await sd.flush();
    expect((await new StateDir(root).load())?.config.farms[0]?.["virtual-addr"]).toBe("198.18.1.20");
    expect(readdirSync(root).sort()).toEqual([JOURNAL_FILE, STATE_FILE]);
  });

  it("a crash between write and rename leaves the old state; the temp file is cleared at the next start", async () => {
    const sd = new StateDir(root);
    await sd.open();
    await sd.save(state("198.18.1.100"));
    // What a crash after the temp file's write, before its rename, leaves behind.
    const leftover = join(root, `.${STATE_FILE}.tmp-4242-1`);
    writeFileSync(leftover, '{"version": 1, "config": {"farms": [{"name": "half');
    const restarted = new StateDir(root);
    await restarted.open();
    expect(readdirSync(root).sort()).toEqual([JOURNAL_FILE, STATE_FILE]);
    expect((await restarted.load())?.config.farms[0]?.["virtual-addr"]).toBe("198.18.1.100");
  });

  it.each([
    ["not JSON", "{bad", /state\.json: the state file is corrupt \(not valid JSON/],
    ["another version", JSON.stringify({ version: 2, config: { farms: [] }, ir: { tables: [] }, appliedAt: "" }), /corrupt \(version: must be 1\)/],
    ["an invalid config", JSON.stringify({ version: 1, config: { farms: [{ name: "x" }] }, ir: { tables: [] }, appliedAt: "" }), /config is invalid: farm "x", virtual-addr: is required/],
    ["no ruleset", JSON.stringify({ version: 1, config: { farms: [] }, appliedAt: "" }), /corrupt \(ir: /],
  ])("refuses a state file with %s, naming the file", async (_what, text, message) => {
    writeFileSync(join(root, STATE_FILE), text);
    const sd = new StateDir(root);
    await sd.open();
    const error = await sd.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toContain(join(root, STATE_FILE));
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("repair or remove the file");
  });

  it("refuses a state dir that is a file", async () => {
    writeFileSync(join(root, "file"), "");
    await expect(new StateDir(join(root, "file")).open()).rejects.toThrow(/file: cannot use it as the state directory/);
  });
});

describe("StateDir journal", () => {
  /** A 200-farm state with farm #k's first backend in `state`, as the standalone agent makes it (unchanged farms keep their objects). */
  const farms = parseConfig({
    farms: Array.from({ length: 200 }, (_, i) => ({
      name: `f${i}`,
      "virtual-addr": `198.18.${100 + Math.floor(i / 200)}.${i % 200}`,
      "virtual-ports": "80",
      backends: [{ name: "b1", "ip-addr": "198.18.2.11" }, { name: "b2", "ip-addr": "198.18.2.12" }],
    })),
  });
  const toggled = (from: AgentState, k: number, at: string): AgentState => {
    const config = { farms: from.config.farms.map((f, i) => (i === k ? { ...f, backends: f.backends.map((b, j) => (j === 0 ? { ...b, state: b.state === "up" ? ("down" as const) : ("up" as const) } : b)) } : f)) };
    return { config, ir: buildRuleset(config), appliedAt: at, managed: { revision: k + 2, hash: `h${k}` } };
  };
  const first = (): AgentState => ({ config: farms, ir: buildRuleset(farms), appliedAt: "2026-01-01T00:00:00.000Z" });

  it("after the first snapshot a change is one short journal line, and a reload replays it exactly", async () => {
    const sd = new StateDir(root);
    await sd.open();
    let current = first();
    await sd.save(current);
    const snapshot = readFileSync(join(root, STATE_FILE), "utf8");
    for (let k = 0; k < 5; k++) {
      current = toggled(current, k * 7, `2026-01-01T00:00:0${k + 1}.000Z`);
      await sd.save(current);
    }
    expect(readFileSync(join(root, STATE_FILE), "utf8")).toBe(snapshot);
    const lines = readFileSync(join(root, JOURNAL_FILE), "utf8").trim().split("\n");
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line.length).toBeLessThan(800);
    expect(await new StateDir(root).load()).toEqual(current);
  });

  it("drops a last line cut short by a crash, and appends cleanly after it", async () => {
    const sd = new StateDir(root);
    await sd.open();
    const a = first();
    const b = toggled(a, 3, "2026-01-01T00:00:01.000Z");
    await sd.save(a);
    await sd.save(b);
    const whole = readFileSync(join(root, JOURNAL_FILE), "utf8");
    writeFileSync(join(root, JOURNAL_FILE), `${whole}{"generation":1,"seq":2,"patch":{"appliedAt":"2026-01-0`);
    const restarted = new StateDir(root);
    expect(await restarted.load()).toEqual(b);
    expect(readFileSync(join(root, JOURNAL_FILE), "utf8")).toBe(whole);
    const c = toggled(b, 4, "2026-01-01T00:00:02.000Z");
    await restarted.save(c);
    expect(await new StateDir(root).load()).toEqual(c);
  });

  it("starts a new snapshot every SNAPSHOT_EVERY lines; lines of an older generation are never replayed", async () => {
    const sd = new StateDir(root);
    await sd.open();
    let current = first();
    await sd.save(current);
    for (let k = 0; k < SNAPSHOT_EVERY + 3; k++) {
      current = toggled(current, k % 200, `2026-01-01T00:00:00.${String(k).padStart(3, "0")}Z`);
      await sd.save(current);
    }
    const journal = readFileSync(join(root, JOURNAL_FILE), "utf8").trim().split("\n");
    expect(journal).toHaveLength(2);
    expect(JSON.parse(journal[0] ?? "{}")).toMatchObject({ generation: 2, seq: 1 });
    // A stale line from generation 1 (what a crash between snapshot and truncation leaves) is skipped.
    writeFileSync(join(root, JOURNAL_FILE), `${JSON.stringify({ generation: 1, seq: 1, patch: { appliedAt: "x", managed: null, farms: { remove: ["f0"] } } })}\n${journal.join("\n")}\n`);
    expect(await new StateDir(root).load()).toEqual(current);
  });

  it("refuses a journal with a gap or a line that does not fit", async () => {
    const sd = new StateDir(root);
    await sd.open();
    await sd.save(first());
    writeFileSync(join(root, JOURNAL_FILE), `${JSON.stringify({ generation: 1, seq: 2, patch: { appliedAt: "x", managed: null } })}\n`);
    await expect(new StateDir(root).load()).rejects.toThrow(/journal\.ndjson: the journal skips from line 0 to 2.*repair or remove/);
    writeFileSync(join(root, JOURNAL_FILE), `${JSON.stringify({ generation: 1, seq: 1, patch: { appliedAt: "x", managed: null, farms: { remove: ["nope"] } } })}\n`);
    await expect(new StateDir(root).load()).rejects.toThrow(/journal line 1 does not fit the state before it \(cannot remove farm nope: there is none\)/);
    writeFileSync(join(root, JOURNAL_FILE), `not json\n`);
    await expect(new StateDir(root).load()).rejects.toThrow(/the journal is corrupt at byte 0/);
  });
});
