import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildRuleset, NO_FACTS, planDelta, renderOps, toNftlb, type Config, type IrRuleset } from "@switchyard/core";
import { Applier } from "./applier.ts";
import { createLogger } from "./log.ts";
import { NftDriver } from "./nft/driver.ts";
import type { NftRunner, RunResult } from "./nft/runner.ts";
import { StandaloneFarms, type Outcome } from "./standalone.ts";
import { StateDir } from "./state/state-dir.ts";

// Standalone changes through core's lane for a few farms: the same nft scripts, the same
// applied IR and the same saved state as the full path (build, planDelta, diffState).

class RecordingNft implements NftRunner {
  readonly inputs: string[] = [];
  async run(_args: readonly string[], input?: string): Promise<RunResult> {
    this.inputs.push(input ?? "");
    return { stdout: "", stderr: "", code: 0 };
  }
}

const T = "switchyard";
const log = createLogger("silent");
const full = (config: Config): IrRuleset => buildRuleset(config, { table: T, facts: NO_FACTS });

const farm = (i: number, extra: Record<string, unknown> = {}) => ({
  name: `svc${i}`,
  "virtual-addr": `198.18.1.${i + 1}`,
  "virtual-ports": "80",
  scheduler: "weight",
  backends: [1, 2, 3].map((b) => ({ name: `b${b}`, "ip-addr": `198.18.2.${b}`, port: 8080 })),
  ...extra,
});

/** What the API can be asked, as generated. */
const request = fc.oneof(
  fc.record({ kind: fc.constant("backend" as const), farm: fc.nat(), backend: fc.integer({ min: 1, max: 3 }), state: fc.constantFrom("up", "down"), weight: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("farm" as const), farm: fc.nat(), ports: fc.constantFrom("80", "443", "80,443", "8000-8100", ""), state: fc.constantFrom("up", "up", "down"), family: fc.constantFrom("ipv4", "dual") }),
  fc.record({ kind: fc.constant("add" as const), farm: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant("rename" as const), farm: fc.nat(), to: fc.integer({ min: 40, max: 60 }) }),
  fc.record({ kind: fc.constant("removeFarm" as const), farm: fc.nat() }),
  fc.record({ kind: fc.constant("removeBackend" as const), farm: fc.nat(), backend: fc.integer({ min: 1, max: 3 }) }),
);

type Request = typeof request extends fc.Arbitrary<infer R> ? R : never;

function send(service: StandaloneFarms, r: Request): Promise<Outcome> | null {
  const farms = service.store.config.farms;
  if (r.kind === "add") return service.merge({ farms: [farm(r.farm)] });
  if (farms.length === 0) return null;
  const name = farms[r.farm % farms.length]!.name;
  switch (r.kind) {
    case "backend":
      return service.merge({ farms: [{ name, backends: [{ name: `b${r.backend}`, "ip-addr": `198.18.2.${r.backend}`, state: r.state, weight: r.weight }] }] });
    case "farm": {
      const at = farms[r.farm % farms.length]!;
      const v6 = r.family === "dual" ? { "virtual-addr6": `2001:db8:1::${at["virtual-addr"].split(".")[3]}` } : {};
      return service.merge({ farms: [{ name, "virtual-ports": r.ports, state: r.state, family: r.family, ...v6 }] });
    }
    case "rename":
      return service.merge({ farms: [{ name, newname: `svc${r.to}` }] });
    case "removeFarm":
      return service.removeFarm(name);
    case "removeBackend":
      return service.removeBackend(name, `b${r.backend}`);
  }
}

describe("StandaloneFarms through the lane for a few farms", () => {
  it("applies and saves what the full path would, change after change", { timeout: 120_000 }, async () => {
    let lanes = 0;
    let changes = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(request, { minLength: 1, maxLength: 12 }), async (size, requests) => {
        const dir = mkdtempSync(join(tmpdir(), "switchyard-lane-"));
        try {
          const nft = new RecordingNft();
          const stateDir = new StateDir(dir);
          await stateDir.open();
          const applier = new Applier({ driver: new NftDriver(nft), table: T });
          const service = new StandaloneFarms({ applier, stateDir, resolveFacts: async () => NO_FACTS, log });
          expect(await service.merge({ farms: Array.from({ length: size }, (_, i) => farm(i)) })).toEqual({ ok: true });
          for (const r of requests) {
            const before = service.store.config;
            const sent = nft.inputs.length;
            const outcome = await send(service, r);
            if (outcome === null || !outcome.ok) continue;
            changes++;
            if (service.lastPlan?.lane) lanes++;
            const after = service.store.config;
            // The applied IR is the full build; the script is planDelta's.
            expect(JSON.stringify(applier.lastApplied)).toBe(JSON.stringify(full(after)));
            const script = renderOps(planDelta(full(before), full(after), T));
            expect(nft.inputs.slice(sent).join("")).toBe(script);
          }
          // What a restart finds: the same config and IR.
          await stateDir.close();
          const reloaded = await new StateDir(dir).load();
          expect(toNftlb(reloaded!.config)).toEqual(toNftlb(service.store.config));
          expect(JSON.stringify(reloaded!.ir)).toBe(JSON.stringify(full(service.store.config)));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      // One fixed draw: the lane's share below is a count over the generated requests (0.29–0.34
      // in six random draws, and once exactly the bound in CI), so a random seed made it flaky.
      { numRuns: 60, seed: 20261129 },
    );
    if (process.env.LANE_STATS) console.log({ lanes, changes });
    // Changes that add, remove or rename a backend change the table's counter list and take the full path.
    expect(lanes).toBeGreaterThan(changes / 4);
  });

  it("takes the lane for a backend change and says why it did not for the first apply", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-lane-"));
    try {
      const nft = new RecordingNft();
      const stateDir = new StateDir(dir);
      await stateDir.open();
      const applier = new Applier({ driver: new NftDriver(nft), table: T });
      const service = new StandaloneFarms({ applier, stateDir, resolveFacts: async () => NO_FACTS, log });
      await service.merge({ farms: [farm(0), farm(1)] });
      expect(service.lastPlan).toEqual({ lane: false, reason: "nothing applied yet" });
      await service.merge({ farms: [{ name: "svc1", backends: [{ name: "b2", state: "down" }] }] });
      expect(service.lastPlan).toEqual({ lane: true });
      expect(nft.inputs.at(-1)).toBe(
        [
          "flush chain inet switchyard sched-svc1-4",
          "add rule inet switchyard sched-svc1-4 ct mark set numgen random mod 2 offset 0x80000000",
          "add rule inet switchyard sched-svc1-4 ct mark 0x80000000 ct mark set numgen random mod 1 offset 0xc0000000",
          "add rule inet switchyard sched-svc1-4 ct mark 0x80000001 ct mark set numgen random mod 1 offset 0xc0000002",
          "",
        ].join("\n"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the dsr table only while the host facts it was built with hold, and plans a dsr farm's change in full", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-lane-"));
    try {
      const nft = new RecordingNft();
      const stateDir = new StateDir(dir);
      await stateDir.open();
      const applier = new Applier({ driver: new NftDriver(nft), table: T });
      let mac = "02:00:00:00:01:01";
      const resolveFacts = async () => ({ interfaces: { "eth-in": { mac } }, neighbours: {} });
      const service = new StandaloneFarms({ applier, stateDir, resolveFacts, log });
      const dsr = { name: "fast", "virtual-addr": "198.18.1.200", "virtual-ports": "443", mode: "dsr", iface: "eth-in", backends: [{ name: "a", "ip-addr": "198.18.2.31", "ether-addr": "02:00:00:00:00:31" }] };
      await service.merge({ farms: [farm(0), dsr] });
      const built = async () => buildRuleset(service.store.config, { table: T, facts: await resolveFacts() });
      await service.merge({ farms: [{ name: "svc0", backends: [{ name: "b1", state: "down" }] }] });
      expect(service.lastPlan).toEqual({ lane: true });
      expect(applier.lastApplied).toEqual(await built());
      mac = "02:00:00:00:01:99";
      await service.merge({ farms: [{ name: "svc0", backends: [{ name: "b1", state: "up" }] }] });
      expect(service.lastPlan).toEqual({ lane: false, reason: "host facts changed" });
      expect(applier.lastApplied).toEqual(await built());
      await service.merge({ farms: [{ name: "fast", backends: [{ name: "a", weight: 2 }] }] });
      expect(service.lastPlan).toEqual({ lane: false, reason: "farm fast is a dsr farm" });
      expect(applier.lastApplied).toEqual(await built());
      await service.merge({ farms: [{ name: "svc0", backends: [{ name: "b2", state: "down" }] }] });
      expect(service.lastPlan).toEqual({ lane: true });
      expect(applier.lastApplied).toEqual(await built());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
