import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab } from "./lab.ts";
import type { Lab } from "./types.ts";

let lab: Lab;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lab = await createLab({ backends: 2 });
  await lab.startServers({ holdPorts: [7000] });
});
afterAll(async () => {
  await lab?.destroy();
});

describe("hold: long-lived connections", () => {
  it("holds connections open, pings through them and reports no trouble on a quiet path", async () => {
    const session = await lab.hold({ target: lab.backends[0]?.ipv4[0] ?? "", port: 7000, count: 4, intervalMs: 20 });
    expect(session.backends).toEqual(["b1", "b1", "b1", "b1"]);
    await sleep(400);
    const report = await session.stop();
    expect(report.connections).toHaveLength(4);
    for (const c of report.connections) {
      expect(c.error).toBeUndefined();
      expect(c.pings).toBeGreaterThan(5);
      expect(c.echoes).toBe(c.pings);
      expect(c.maxGapMs).toBeLessThan(500);
    }
  });

  it("sees a stall when the path drops packets for a while", async () => {
    const session = await lab.hold({ target: lab.backends[1]?.ipv4[0] ?? "", port: 7000, count: 2, intervalMs: 20 });
    const block = `table inet stall {\n chain forward {\n  type filter hook forward priority 0; policy drop;\n }\n}\n`;
    expect((await lab.exec(lab.balancer.ns, ["nft", "-f", "-"], { input: block })).code).toBe(0);
    await sleep(1200);
    expect((await lab.exec(lab.balancer.ns, ["nft", "delete", "table", "inet", "stall"])).code).toBe(0);
    await sleep(1500); // TCP retransmits and catches up
    const report = await session.stop();
    for (const c of report.connections) expect(c.maxGapMs).toBeGreaterThanOrEqual(1000);
  });

  it("sees a reset", async () => {
    const session = await lab.hold({ target: lab.backends[0]?.ipv4[0] ?? "", port: 7000, count: 1, intervalMs: 20 });
    const reset = `table inet rst {\n chain forward {\n  type filter hook forward priority 0;\n  tcp dport 7000 reject with tcp reset\n }\n}\n`;
    expect((await lab.exec(lab.balancer.ns, ["nft", "-f", "-"], { input: reset })).code).toBe(0);
    await sleep(300);
    await lab.exec(lab.balancer.ns, ["nft", "delete", "table", "inet", "rst"]);
    const report = await session.stop();
    expect(report.connections[0]?.error).toBe("ECONNRESET");
  });
});
