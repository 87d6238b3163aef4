import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildRuleset, NO_FACTS, parseConfig, type IrRuleset } from "@switchyard/core";
import { Applier } from "./applier.ts";
import { createLogger } from "./log.ts";
import { NftDriver } from "./nft/driver.ts";
import type { NftRunner, RunResult } from "./nft/runner.ts";
import { StandaloneFarms } from "./standalone.ts";
import { StateDir } from "./state/state-dir.ts";

// The change pipeline with nft behind a scripted runner: what is applied, in which order,
// and what a refusal leaves (nothing). The kernel side is proven in daemon.integration.test.ts.

class ScriptedNft implements NftRunner {
  readonly calls: { args: string[]; input: string }[] = [];
  refuse: string | null = null;
  refuseOnce: string | null = null;
  running = 0;
  maxRunning = 0;

  async run(args: readonly string[], input?: string): Promise<RunResult> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.running--;
    this.calls.push({ args: [...args], input: input ?? "" });
    if (this.refuse !== null) return { stdout: "", stderr: this.refuse, code: 1 };
    if (this.refuseOnce !== null) {
      const stderr = this.refuseOnce;
      this.refuseOnce = null;
      return { stdout: "", stderr, code: 1 };
    }
    return { stdout: "", stderr: "", code: 0 };
  }
}

let dir: string;
let nft: ScriptedNft;
let stateDir: StateDir;
let applier: Applier;
const log = createLogger("silent");

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-standalone-"));
  nft = new ScriptedNft();
  stateDir = new StateDir(dir);
  await stateDir.open();
  applier = new Applier({ driver: new NftDriver(nft), table: "switchyard" });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const farms = (saver: Pick<StateDir, "save" | "file"> = stateDir) =>
  new StandaloneFarms({ applier, stateDir: saver, resolveFacts: async () => NO_FACTS, log });

const web = { name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] };

describe("StandaloneFarms", () => {
  it("applies, saves, then answers", async () => {
    const service = farms();
    expect(await service.merge({ farms: [web] })).toEqual({ ok: true });
    expect(nft.calls.map((c) => c.args.join(" "))).toEqual(["-f -"]);
    expect(nft.calls[0]?.input).toContain("chain farm-web-4");
    expect((await stateDir.load())?.config.farms.map((f) => f.name)).toEqual(["web"]);
    expect(service.list().farms.map((f) => f.name)).toEqual(["web"]);
    expect(applier.lastApplied).not.toBeNull();
  });

  it("keeps build's memo only for a config with dsr farms, whose changes are built whole", async () => {
    const inet = (ir: IrRuleset | null) => ir?.tables.find((t) => t.family === "inet");
    const chainOf = (ir: IrRuleset | null, name: string) => inet(ir)?.chains.find((c) => c.name === name);
    // A second build of the same config: from the memo, the very same chains; without it, equal ones.
    const rebuilt = async (service: StandaloneFarms) => {
      const config = service.store.config;
      return service.compactSaved(config, JSON.parse(JSON.stringify(applier.lastApplied)) as IrRuleset);
    };
    const api = { ...web, name: "api", "virtual-ports": "81" };
    const plain = farms();
    await plain.merge({ farms: [web, api] });
    const again = await rebuilt(plain);
    expect(chainOf(again, "farm-api-4")).toEqual(chainOf(applier.lastApplied, "farm-api-4"));
    expect(chainOf(again, "farm-api-4")).not.toBe(chainOf(applier.lastApplied, "farm-api-4"));

    const dsr = {
      name: "fast",
      "virtual-addr": "198.18.1.101",
      "virtual-ports": "443",
      mode: "dsr",
      iface: "eth-in",
      "ether-addr": "02:00:00:00:00:01",
      backends: [{ name: "a", "ip-addr": "198.18.2.31", "ether-addr": "02:00:00:00:00:31" }],
    };
    const withDsr = farms();
    await withDsr.merge({ farms: [web, { ...api, name: "db" }, dsr] });
    const dbChain = chainOf(applier.lastApplied, "farm-db-4");
    expect(chainOf(await rebuilt(withDsr), "farm-db-4")).toBe(dbChain);
    // A change of the dsr farm is built whole; the farms it did not touch come from the memo.
    expect(await withDsr.merge({ farms: [{ name: "fast", backends: [{ name: "a", weight: 2 }] }] })).toEqual({ ok: true });
    expect(withDsr.lastPlan).toEqual({ lane: false, reason: "farm fast is a dsr farm" });
    expect(chainOf(applier.lastApplied, "farm-db-4")).toBe(dbChain);
  });

  it("restores the build of the saved config when it is the saved ruleset, and the saved ruleset when it is not", async () => {
    const service = farms();
    const config = parseConfig({ farms: [web, { ...web, name: "api", "virtual-ports": "81" }] });
    const built = buildRuleset(config, { table: "switchyard" });
    // As read back from the state dir: equal, but none of its objects or texts shared.
    const saved = JSON.parse(JSON.stringify(built)) as typeof built;
    const restored = await service.compactSaved(config, saved);
    expect(restored).not.toBe(saved);
    expect(restored).toEqual(saved);
    // A saved ruleset the build does not give again (another version's rendering) stays as it is.
    const other = JSON.parse(JSON.stringify(built)) as typeof built;
    other.tables[0]!.chains.find((c) => c.name === "farm-web-4")!.rules.push("accept");
    expect(await service.compactSaved(config, other)).toBe(other);
  });

  it("a change nft refuses changes nothing and carries nft's words", async () => {
    const service = farms();
    await service.merge({ farms: [web] });
    const saved = readFileSync(stateDir.file, "utf8");
    nft.refuse = "Error: Could not process rule: No such file or directory\n";
    const outcome = await service.merge({ farms: [{ name: "web", "virtual-ports": "81" }] });
    expect(outcome).toEqual({ ok: false, status: 500, message: expect.stringContaining("Could not process rule: No such file or directory") });
    expect(service.list().farms[0]?.["virtual-ports"]).toBe("80");
    expect(readFileSync(stateDir.file, "utf8")).toBe(saved);
    expect(applier.lastApplied).toBeNull();
  });

  it("after the first apply, a change is a delta of what changed, committed without a separate check", async () => {
    const service = farms();
    await service.merge({ farms: [web] });
    nft.calls.length = 0;
    expect(await service.merge({ farms: [{ name: "web", scheduler: "weight", backends: [{ name: "b1", weight: 3 }, { name: "b2", "ip-addr": "198.18.2.12" }] }] })).toEqual({ ok: true });
    expect(nft.calls.map((c) => c.args.join(" "))).toEqual(["-f -"]);
    expect(nft.calls[0]?.input).toBe(
      [
        "add counter inet switchyard c/web/b2",
        // A backend added: its dnat rule in the farm chain, its traffic element, and the scheduler chain draws over both.
        "flush chain inet switchyard sched-web-4",
        "flush chain inet switchyard farm-web-4",
        "add element inet switchyard traffic4-ports { 198.18.1.100 . tcp . 80 . 198.18.2.12 . 80 }",
        "add rule inet switchyard sched-web-4 ct mark set numgen random mod 4 offset 0x80000000",
        "add rule inet switchyard sched-web-4 ct mark 0x80000000-0x80000002 ct mark set numgen random mod 1 offset 0xc0000000",
        "add rule inet switchyard sched-web-4 ct mark 0x80000003 ct mark set numgen random mod 1 offset 0xc0000001",
        "add rule inet switchyard farm-web-4 jump sched-web-4",
        "add rule inet switchyard farm-web-4 ct mark 0xc0000000 counter name c/web/b1 dnat ip to 198.18.2.11",
        "add rule inet switchyard farm-web-4 ct mark 0xc0000001 counter name c/web/b2 dnat ip to 198.18.2.12",
        "add rule inet switchyard farm-web-4 drop",
        "",
      ].join("\n"),
    );
    nft.calls.length = 0;
    expect(await service.merge({ farms: [{ name: "web", backends: [{ name: "b1", weight: 3 }] }] })).toEqual({ ok: true });
    expect(nft.calls).toEqual([]);
  });

  it("a delta the kernel refuses is retried as a full replace", async () => {
    const service = farms();
    await service.merge({ farms: [web] });
    nft.calls.length = 0;
    nft.refuseOnce = "Error: Could not process rule: No such file or directory\n";
    expect(await service.merge({ farms: [{ name: "web", "virtual-ports": "81" }] })).toEqual({ ok: true });
    expect(nft.calls.map((c) => c.args.join(" "))).toEqual(["-f -", "-f -"]);
    expect(nft.calls[0]?.input).toMatch(/^delete element /);
    expect(nft.calls[1]?.input).toContain("table inet switchyard {");
    expect(applier.lastApplied).not.toBeNull();
  });

  it("keeps a control plane's x-placement as written (a standalone agent serves every farm it is given); a plain farm's answer has no such key", async () => {
    const service = farms();
    await service.merge({ farms: [web] });
    expect(Object.keys(service.list().farms[0] ?? {})).toEqual(["name", "family", "virtual-addr", "virtual-ports", "mode", "protocol", "scheduler", "sched-param", "priority", "state", "backends"]);
    nft.calls.length = 0;
    // Placement decides which hosts get a farm, never its rules: nothing for nft to do.
    expect(await service.merge({ farms: [{ name: "web", "x-placement": "role=edge" }] })).toEqual({ ok: true });
    expect(nft.calls).toEqual([]);
    expect(service.list().farms[0]?.["x-placement"]).toBe("role=edge");
    expect((await stateDir.load())?.config.farms[0]?.["x-placement"]).toEqual({ role: "edge" });
    const bad = await service.merge({ farms: [{ name: "web", "x-placement": "role" }] });
    expect(bad).toEqual({ ok: false, status: 400, message: expect.stringMatching(/^farm "web", x-placement = "role": "role" is not key=value/) });
  });

  it("an invalid change never reaches nft", async () => {
    const service = farms();
    const outcome = await service.merge({ farms: [{ ...web, protocol: "80" }] });
    expect(outcome).toEqual({ ok: false, status: 400, message: 'farm "web", protocol = "80": must be one of tcp, udp, sctp, all' });
    expect(nft.calls).toEqual([]);
  });

  it("when the state cannot be saved, the previous rules are put back and the change is refused", async () => {
    let failSave = false;
    const flaky: Pick<StateDir, "save" | "file"> = {
      file: stateDir.file,
      save: (state) => (failSave ? Promise.reject(new Error("ENOSPC: no space left on device")) : stateDir.save(state)),
    };
    const service = farms(flaky);
    await service.merge({ farms: [web] });
    failSave = true;
    const outcome = await service.merge({ farms: [{ name: "web", "virtual-ports": "81" }] });
    expect(outcome).toEqual({ ok: false, status: 500, message: expect.stringMatching(/cannot save the state .*ENOSPC.*rolled back/) });
    const [change, rollback] = nft.calls.slice(-2).map((c) => c.input);
    const t80 = "198.18.1.100 . tcp . 80 . 198.18.2.11 . 80";
    const t81 = "198.18.1.100 . tcp . 81 . 198.18.2.11 . 81";
    expect(change).toBe(
      [
        "delete element inet switchyard svc4-ports { tcp . 198.18.1.100 . 80 }",
        `delete element inet switchyard traffic4-ports { ${t80} }`,
        "add element inet switchyard svc4-ports { tcp . 198.18.1.100 . 81 : goto farm-web-4 }",
        `add element inet switchyard traffic4-ports { ${t81} }`,
        "",
      ].join("\n"),
    );
    expect(rollback).toBe(
      [
        "delete element inet switchyard svc4-ports { tcp . 198.18.1.100 . 81 }",
        `delete element inet switchyard traffic4-ports { ${t81} }`,
        "add element inet switchyard svc4-ports { tcp . 198.18.1.100 . 80 : goto farm-web-4 }",
        `add element inet switchyard traffic4-ports { ${t80} }`,
        "",
      ].join("\n"),
    );
    expect(service.list().farms[0]?.["virtual-ports"]).toBe("80");
  });

  it("runs concurrent changes one at a time, each on top of the one before", async () => {
    const service = farms();
    await service.merge({ farms: [{ ...web, backends: [] }] });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => service.merge({ farms: [{ name: "web", backends: [{ name: `b${i}`, "ip-addr": `198.18.2.${20 + i}` }] }] })),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(nft.maxRunning).toBe(1);
    expect(service.store.config.farms[0]?.backends.map((b) => b.name)).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`));
    expect((await stateDir.load())?.config.farms[0]?.backends).toHaveLength(10);
  });

  it("404s name the unknown farm or backend and touch nothing", async () => {
    const service = farms();
    expect(await service.removeFarm("nope")).toEqual({ ok: false, status: 404, message: 'farm "nope": no such farm' });
    expect(await service.removeBackend("nope", "b1")).toEqual({ ok: false, status: 404, message: 'farm "nope": no such farm' });
    expect(nft.calls).toEqual([]);
  });
});
