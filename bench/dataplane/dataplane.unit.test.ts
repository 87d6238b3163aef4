import { describe, expect, it } from "vitest";
import { parseConntrackStat, parseLoadAvg } from "./kernel.ts";
import { parseOptions, trafficSeconds, UsageError } from "./options.ts";
import { fillerVip, MEASURED_VIP, planServices } from "./plan.ts";
import { median, pairedRatios, rate, summarize } from "./stats.ts";
import { conntrackOnlyScript, countersScript, switchyardConfig, switchyardRuleset } from "./switchyard.ts";
import { parseWrkOutput, wrkLua } from "./wrk.ts";

const BACKENDS = ["198.18.2.11", "198.18.2.12", "198.18.2.13", "198.18.2.14"];

describe("planServices", () => {
  it("puts the measured service last and keeps every VIP distinct and inside 198.18.0.0/15", () => {
    const services = planServices(10_000, BACKENDS);
    expect(services).toHaveLength(10_000);
    expect(services.at(-1)?.vip).toBe(MEASURED_VIP);
    const vips = services.map((s) => s.vip);
    expect(new Set(vips).size).toBe(vips.length);
    for (const vip of vips) expect(vip).toMatch(/^198\.1[89]\.\d+\.\d+$/);
    expect(fillerVip(0)).toBe("198.18.128.1");
    expect(fillerVip(9998)).toBe("198.18.167.15");
  });
});

describe("Switchyard rulesets", () => {
  it("render one farm per service through @switchyard/core", () => {
    const services = planServices(3, BACKENDS);
    expect(switchyardConfig(services).farms).toHaveLength(3);
    const sy = switchyardRuleset(services);
    expect(sy.script).toContain(`tcp . ${MEASURED_VIP} . 80 : goto farm-measured-4`);
    expect(sy.mapElements).toBe(3 + 3 * 4); // a service element per farm, a traffic element per backend
    // prerouting, postrouting, traffic and two chains per farm (scheduler, farm)
    expect(sy.chains).toBe(3 + 2 * 3);
  });

  it("the counter variants of (d): with connection counters only, or without any counter", () => {
    const sy = switchyardRuleset(planServices(3, BACKENDS));
    expect(sy.script).toContain("counter name c/measured/b1 dnat ip to 198.18.2.11:80");
    expect(sy.script).toContain("type filter hook forward priority 0");
    const connections = countersScript(sy.script, "connections");
    expect(connections).not.toMatch(/traffic|t\/|forward/);
    expect(connections).toContain("ct mark 0xc0000000 meta l4proto tcp counter name c/measured/b1 dnat ip to 198.18.2.11:80");
    expect(connections).toContain("\tcounter c/measured/b1 {\n\t}\n");
    const none = countersScript(sy.script, "none");
    expect(none).not.toContain("counter");
    expect(none).toContain("ct mark 0xc0000000 meta l4proto tcp dnat ip to 198.18.2.11:80");
    expect(none).toMatch(/^table inet switchyard \{$/m);
  });

  it("(b) has nat hooks and a ct rule but no translation", () => {
    const script = conntrackOnlyScript();
    expect(script).toContain("type nat hook prerouting");
    expect(script).toContain("type nat hook postrouting");
    expect(script).toContain("ct state");
    expect(script).not.toMatch(/dnat|snat|masquerade/);
  });
});

describe("wrk", () => {
  it("spreads threads over the targets and parses its own summary", () => {
    const lua = wrkLua(["198.18.2.11", "198.18.2.12"], 80, true);
    expect(lua).toContain('local hosts = { "198.18.2.11", "198.18.2.12" }');
    expect(lua).toContain("function response");
    expect(wrkLua(["198.18.1.100"], 80, false)).not.toContain("function response");
    const r = parseWrkOutput(
      "Running 1s test\nSYBENCH requests=30000 duration_us=1000000 connect=1 read=2 write=0 status=0 timeout=3\nSYBENCH_BACKEND b1 15000\nSYBENCH_BACKEND b2 15000\n",
    );
    expect(r.perSecond).toBe(30000);
    expect(r.errors).toEqual({ connect: 1, read: 2, write: 0, status: 0, timeout: 3 });
    expect(r.backends).toEqual({ b1: 15000, b2: 15000 });
    expect(() => parseWrkOutput("nothing")).toThrow();
  });
});

describe("stats", () => {
  it("medians, paired ratios, rates", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(pairedRatios([10, 20], [5, 40])).toEqual([2, 0.5]);
    expect(summarize([1, 5, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(rate(38_212)).toBe("38.2k");
    expect(rate(4_512)).toBe("4.51k");
    expect(rate(912)).toBe("912");
  });
});

describe("options", () => {
  it("has a quick mode within budget and a full default within 10 minutes of traffic", () => {
    const quick = parseOptions(["--quick"], {});
    const full = parseOptions([], {});
    expect(quick && trafficSeconds(quick)).toBeLessThanOrEqual(70);
    expect(full && trafficSeconds(full)).toBeLessThanOrEqual(450);
    expect(full?.services).toEqual([1, 1000, 10000]);
  });

  it("takes flags over environment variables and refuses nonsense", () => {
    expect(parseOptions(["--rounds", "7"], { DATAPLANE_ROUNDS: "2" })?.rounds).toBe(7);
    expect(parseOptions([], { DATAPLANE_ROUNDS: "2", DATAPLANE_SERVICES: "10_000,1" })).toMatchObject({ rounds: 2, services: [1, 10000] });
    expect(() => parseOptions(["--rounds", "0"], {})).toThrow(UsageError);
    expect(() => parseOptions(["--threads", "8", "--connections", "4"], {})).toThrow(UsageError);
    expect(() => parseOptions(["--bogus"], {})).toThrow(UsageError);
    expect(parseOptions(["--help"], {})).toBeNull();
  });
});

describe("/proc readers", () => {
  it("read loadavg and conntrack counters", () => {
    expect(parseLoadAvg("0.52 0.58 0.59 1/467 12345\n")).toEqual({ one: 0.52, five: 0.58, fifteen: 0.59 });
    const stat = "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop\n" +
      "0000001a  00000000 00000000 00000000 00000002 00000000 00000000 00000000 00000000 00000001 00000003 00000000\n" +
      "0000001a  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 00000000\n";
    expect(parseConntrackStat(stat)).toMatchObject({ drop: 4, insert_failed: 1, invalid: 2, early_drop: 0 });
  });
});
