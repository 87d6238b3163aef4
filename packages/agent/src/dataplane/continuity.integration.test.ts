import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type HoldSession, type Lab } from "@switchyard/netlab";
import { backendAddrs } from "../testing/agent-in-lab.ts";
import { startAgent, type RunningAgent } from "../testing/agent-client.ts";

// A deploy never breaks the traffic already flowing: long-lived TCP connections through the
// balancer (snat and dnat) ping through a hundred changes made through the agent's API — their
// own farm re-weighted, its backends set down and up, removed and added back, other farms added,
// changed and removed — and not one of them sees a reset or a stall over a second, while new
// connections follow every change at once.

const SNAT_VIP = "198.18.1.100";
const DNAT_VIP = "198.18.1.101";
const HOLD_PORT = 7000;
const COUNT_PORT = 8080;
const HELD = 8;

let lab: Lab;
let agent: RunningAgent;
let stateDir: string;

const names = ["b1", "b2", "b3"];
function backend(i: number, extra: Record<string, string> = {}) {
  return { name: names[i], "ip-addr": backendAddrs(lab)[i], ...extra };
}
function liveFarm(name: string, vip: string, mode: "snat" | "dnat") {
  return { name, "virtual-addr": vip, "virtual-ports": `${HOLD_PORT},${COUNT_PORT}`, mode, scheduler: "rr", backends: [0, 1, 2].map((i) => backend(i)) };
}
function otherFarm(k: number, port = 80) {
  return { name: `other${k}`, "virtual-addr": `198.18.1.${150 + k}`, "virtual-ports": String(port), backends: [backend(k % 3)] };
}

async function ok(response: Promise<{ status: number; text: string }>, what: string): Promise<void> {
  const r = await response;
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.text}`);
}

beforeAll(async () => {
  lab = await createLab({ backends: 3 });
  await lab.startServers({ holdPorts: [HOLD_PORT], tcpPorts: [COUNT_PORT] });
  stateDir = mkdtempSync(join(tmpdir(), "switchyard-continuity-"));
  agent = await startAgent(lab, { stateDir });
  await ok(agent.client.post({ farms: [liveFarm("live-snat", SNAT_VIP, "snat"), liveFarm("live-dnat", DNAT_VIP, "dnat"), otherFarm(0), otherFarm(1)] }), "initial config");
});
afterAll(async () => {
  await agent?.stop("SIGKILL");
  await lab?.destroy();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("deploys never disrupt established connections", () => {
  it("long-lived snat and dnat connections survive 100 changes with no reset and no stall over 1 s", async () => {
    const holds: [string, HoldSession][] = [
      ["snat", await lab.hold({ target: SNAT_VIP, port: HOLD_PORT, count: HELD, intervalMs: 25 })],
      ["dnat", await lab.hold({ target: DNAT_VIP, port: HOLD_PORT, count: HELD, intervalMs: 25 })],
    ];
    for (const [, h] of holds) expect(new Set(h.backends)).toEqual(new Set(names));

    const api = agent.client;
    for (let i = 0; i < 100; i++) {
      const farm = i % 2 === 0 ? "live-snat" : "live-dnat";
      switch (i % 10) {
        case 0: // re-weight every backend of its own farm
        case 5:
          await ok(api.post({ farms: [{ name: farm, scheduler: "weight", backends: [0, 1, 2].map((b) => backend(b, { weight: String(1 + ((i + b) % 5)) })) }] }), `change ${i}`);
          break;
        case 1: // a backend of its own farm goes down...
          await ok(api.post({ farms: [{ name: farm, backends: [backend(2, { state: "down" })] }] }), `change ${i}`);
          {
            const tally = await lab.connect({ target: farm === "live-snat" ? SNAT_VIP : DNAT_VIP, port: COUNT_PORT, proto: "tcp", count: 6 });
            expect([i, tally.failed, tally.byBackend.b3 ?? 0]).toEqual([i, 0, 0]);
          }
          break;
        case 2: // ...and comes back
          await ok(api.post({ farms: [{ name: farm, backends: [backend(2, { state: "up" })] }] }), `change ${i}`);
          break;
        case 3: // a backend is removed from its farm...
          await ok(api.delete(`/farms/${farm}/backends/b2`), `change ${i}`);
          {
            const tally = await lab.connect({ target: farm === "live-snat" ? SNAT_VIP : DNAT_VIP, port: COUNT_PORT, proto: "tcp", count: 6 });
            expect([i, tally.failed, tally.byBackend.b2 ?? 0]).toEqual([i, 0, 0]);
          }
          break;
        case 4: // ...and added back
          await ok(api.post({ farms: [{ name: farm, backends: [backend(1)] }] }), `change ${i}`);
          break;
        case 6: // another farm appears
          await ok(api.post({ farms: [otherFarm(2 + (i % 7))] }), `change ${i}`);
          break;
        case 7: // another farm changes its ports
          await ok(api.post({ farms: [{ name: "other1", "virtual-ports": String(80 + (i % 3)) }] }), `change ${i}`);
          break;
        case 8: // another farm goes away
          await ok(api.delete(`/farms/other${2 + ((i - 2) % 7)}`), `change ${i}`);
          break;
        case 9: // the other farm goes off and on
          await ok(api.post({ farms: [{ name: "other0", state: i % 20 === 9 ? "off" : "up" }] }), `change ${i}`);
          break;
      }
    }

    for (const [mode, h] of holds) {
      const report = await h.stop();
      for (const [k, c] of report.connections.entries()) {
        expect({ mode, k, error: c.error ?? null, stalled: c.maxGapMs >= 1000 }).toEqual({ mode, k, error: null, stalled: false });
        expect(c.pings).toBeGreaterThan(50);
        expect(c.echoes).toBeGreaterThanOrEqual(c.pings - 1);
      }
    }
  }, 300_000);
});
