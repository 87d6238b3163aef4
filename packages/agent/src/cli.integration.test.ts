import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type Lab } from "@switchyard/netlab";
import { applyInLab, listRuleset, mustApply } from "./testing/agent-in-lab.ts";
import { addForeignTables, listForeignTables } from "./testing/foreign-tables.ts";

// `switchyard-agent -c FILE -e` against the kernel: its own tables only, all or nothing.
let lab: Lab;

const farm = (name: string, vip: string, extra: Record<string, unknown> = {}) => ({
  name,
  "virtual-addr": vip,
  "virtual-ports": "80",
  backends: [{ name: "b1", "ip-addr": "198.18.2.11", port: "8080" }],
  ...extra,
});

const foreignTables = () => listForeignTables(lab);

beforeAll(async () => {
  lab = await createLab({ backends: 1 });
  await addForeignTables(lab);
});
afterAll(async () => {
  await lab?.destroy();
});

describe("switchyard-agent -c FILE -e", () => {
  it("-h prints usage in nftlb's style", async () => {
    const run = await lab.exec(lab.balancer.ns, [(await import("./testing/agent-in-lab.ts")).AGENT_BIN, "-h"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: switchyard-agent/);
    expect(run.stdout).toContain("[ -e | --exit ]");
  });

  it("a second run replaces its tables atomically and leaves other tables untouched", async () => {
    const before = await foreignTables();
    const first = await applyInLab(lab, { farms: [farm("a", "198.18.1.10"), farm("dsr", "198.18.1.11", { mode: "dsr", scheduler: "hash", iface: lab.balancer.clientIface, oface: lab.balancer.backendIface, backends: [{ name: "b1", "ip-addr": "198.18.2.11", "ether-addr": "02:00:00:00:02:01" }] })] });
    expect([first.code, first.stderr]).toEqual([0, expect.stringContaining("applied (nft) 2 farm(s)")]);
    let ruleset = await listRuleset(lab);
    expect(ruleset).toContain("chain farm-a-4");
    expect(ruleset).toContain("table netdev switchyard");
    // The dsr farm's netdev table goes through nft; without it, the agent's own netlink batch replaces both tables.
    const second = await applyInLab(lab, { farms: [farm("b", "198.18.1.12")] });
    expect([second.code, second.stderr]).toEqual([0, expect.stringContaining("applied (netlink batch) 1 farm(s)")]);
    ruleset = await listRuleset(lab);
    expect(ruleset).not.toContain("farm-a-4");
    expect(ruleset).not.toContain("table netdev switchyard");
    expect(ruleset).toContain("chain farm-b-4");
    expect(await foreignTables()).toBe(before);
  });

  it("a bad config exits non-zero, names the problem and changes nothing", async () => {
    await mustApply(lab, { farms: [farm("keep", "198.18.1.20")] });
    const before = await listRuleset(lab);
    const run = await applyInLab(lab, { farms: [farm("bad", "198.18.1.21", { backends: [{ name: "b1", "ip-addr": "2001:db8:2::11" }] })] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('farm "bad", backend "b1", ip-addr = "2001:db8:2::11": is an IPv6 address but the farm\'s family is ipv4');
    expect(await listRuleset(lab)).toBe(before);
  });

  it("JSON that does not parse is refused and changes nothing", async () => {
    const before = await listRuleset(lab);
    const run = await applyInLab(lab, '{"farms": [');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not valid JSON/);
    expect(await listRuleset(lab)).toBe(before);
  });

  it("a config the kernel refuses (no such interface) leaves the running ruleset as it was", async () => {
    const before = await listRuleset(lab);
    const run = await applyInLab(lab, {
      farms: [farm("x", "198.18.1.30", { mode: "dsr", scheduler: "hash", iface: "nosuch0", "ether-addr": "02:00:00:00:00:01", backends: [{ name: "b1", "ip-addr": "198.18.2.11", "ether-addr": "02:00:00:00:02:01" }] })],
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ruleset is unchanged: nft check failed/);
    expect(await listRuleset(lab)).toBe(before);
  });

  it("--table gives the agent tables of another name, next to the default ones", async () => {
    await mustApply(lab, { farms: [farm("one", "198.18.1.40")] });
    await mustApply(lab, { farms: [farm("two", "198.18.1.41")] }, ["--table", "blue"]);
    const ruleset = await listRuleset(lab);
    expect(ruleset).toContain("table inet switchyard");
    expect(ruleset).toContain("table inet blue");
    expect(ruleset).toMatch(/table inet blue \{[\s\S]*chain farm-two-4/);
    const clean = await lab.exec(lab.balancer.ns, ["nft", "delete", "table", "inet", "blue"]);
    expect(clean.code).toBe(0);
  });

  it("--check validates against the kernel without changing it", async () => {
    const before = await listRuleset(lab);
    const run = await applyInLab(lab, { farms: [farm("checked", "198.18.1.50")] }, ["--check"]);
    expect(run.code).toBe(0);
    expect(await listRuleset(lab)).toBe(before);
  });

  it("other tables come through forty applies, failed ones included, byte for byte", async () => {
    const before = await foreignTables();
    for (let i = 0; i < 40; i++) {
      const good = i % 10 !== 9;
      const vip = `198.18.1.${100 + (i % 50)}`;
      const config = good ? { farms: [farm(`f${i}`, vip)] } : { farms: [farm(`f${i}`, vip, { protocol: "80" })] };
      const run = await applyInLab(lab, config);
      expect([i, run.code]).toEqual([i, good ? 0 : 1]);
    }
    expect(await foreignTables()).toBe(before);
  }, 240_000);
});
