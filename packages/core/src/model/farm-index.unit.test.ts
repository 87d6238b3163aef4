import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyLaneStep, laneConfig, laneFarmSpec, laneStep } from "../ruleset/farm-gen.ts";
import { crossFarmIssues, type Config, type Farm } from "./farm.ts";
import { crossFarmIssuesAfter, farmPosition, farmsRemoved, indexedCrossFarmIssues } from "./farm-index.ts";

describe("crossFarmIssuesAfter: the cross-farm check of a change through an index", () => {
  it("answers as crossFarmIssues over random configs and sequences of changes, valid or not", { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(
        fc.array(laneFarmSpec, { maxLength: 12 }),
        fc.array(fc.record({ step: laneStep, dup: fc.option(fc.nat(), { nil: undefined }), cut: fc.boolean() }), { minLength: 1, maxLength: 10 }),
        (specs, plan) => {
          let config = laneConfig(specs);
          expect(indexedCrossFarmIssues(config)).toEqual(crossFarmIssues(config));
          for (const { step, dup, cut } of plan) {
            const change = applyLaneStep(config, step);
            if (change === undefined) continue;
            if (change.removed) {
              // Farms removed from anywhere: the index is carried over, positions shifted.
              const gone = config.farms.flatMap((f, i) => (change.changed.includes(f.name) ? [i] : []));
              farmsRemoved(config, change.next, gone);
              expect(indexedCrossFarmIssues(change.next)).toEqual(crossFarmIssues(change.next));
              for (const farm of change.next.farms) expect(farmPosition(change.next, farm.name)).toBe(change.next.farms.findIndex((f) => f.name === farm.name));
              config = change.next;
              continue;
            }
            let { next, touched } = change;
            // Duplicate names too: a farm takes the name of another.
            if (dup !== undefined && next.farms.length > 1) {
              const at = touched[0] as number;
              const other = next.farms[(at + 1 + (dup % (next.farms.length - 1))) % next.farms.length] as Farm;
              next = { farms: next.farms.map((f, i) => (i === at ? { ...f, name: other.name } : f)) };
            }
            // Cut at the end (a change made the other way round).
            if (cut && next.farms.length > 0) next = { farms: next.farms.slice(0, -1) };
            const long = Math.max(config.farms.length, next.farms.length);
            touched = Array.from({ length: long }, (_, p) => p).filter((p) => config.farms[p] !== next.farms[p]);
            const expected = crossFarmIssues(next);
            expect(crossFarmIssuesAfter(config, next, touched)).toEqual(expected);
            // The config the change was made from still answers (a refused change): the index moves back.
            expect(indexedCrossFarmIssues(config)).toEqual(crossFarmIssues(config));
            expect(indexedCrossFarmIssues(next)).toEqual(expected);
            for (const farm of next.farms) expect(farmPosition(next, farm.name)).toBe(next.farms.findIndex((f) => f.name === farm.name));
            config = next;
          }
        },
      ),
      { numRuns: Number(process.env.LANE_RUNS ?? 500) },
    );
  });

  it("names the first farm of a service in its message, as crossFarmIssues does", () => {
    const farm = (name: string, ports: string): Farm =>
      ({ name, family: "ipv4", "virtual-addr": "198.18.1.1", "virtual-ports": ports, mode: "snat", protocol: "tcp", scheduler: "rr", "sched-param": [], priority: 1, state: "up", backends: [] }) as Farm;
    const prev: Config = { farms: [farm("a", "80"), farm("b", "443"), farm("c", "8000-8100")] };
    const next: Config = { farms: [prev.farms[0]!, farm("b", "80,8050"), prev.farms[2]!] };
    const issues = crossFarmIssuesAfter(prev, next, [1]);
    expect(issues).toEqual(crossFarmIssues(next));
    expect(issues.map((i) => i.message)).toEqual(['port 80 of tcp 198.18.1.1 is already served by farm "a"', 'port 8050 of tcp 198.18.1.1 is already served by farm "b"']);
    const third: Config = { farms: [farm("a", "1-65535"), next.farms[1]!, next.farms[2]!] };
    expect(crossFarmIssuesAfter(next, third, [0])).toEqual(crossFarmIssues(third));
  });
});
