import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuleset, diffIr, parseConfig, type IrRuleset } from "@switchyard/core";
import { createLab, type Lab } from "@switchyard/netlab";
import { irHash } from "./schema.ts";
import { StateDir } from "../state/state-dir.ts";
import { backendAddrs } from "../testing/agent-in-lab.ts";
import { startAgent, type RunningAgent } from "../testing/agent-client.ts";
import { addForeignTables, listForeignTables } from "../testing/foreign-tables.ts";

// kill -9 at any moment of an apply: the agent gets a large delta (every other one as a PATCH
// of the ruleset it has, journaled as that patch) and is SIGKILLed after a random delay while it works. Then the kernel holds exactly the old or exactly the new
// ruleset (never a mix, never nothing), the state file is whole, and once restarted the agent
// puts back what its state file says, so that state dir and kernel agree.

const TOKEN = "crash-test-token-0123456789abcdef0123";
const T = "switchyard";
const FARMS = 1500;
const KILLS = 12;

let lab: Lab;
let dir: string;
let agent: RunningAgent | undefined;

/** Two large rulesets that differ in every farm chain and in the maps. */
function variant(which: 0 | 1): IrRuleset {
  const [a1 = "", a2 = ""] = backendAddrs(lab);
  const farms = Array.from({ length: FARMS }, (_, i) => ({
    name: `f${i}`,
    "virtual-addr": `198.18.${100 + Math.floor(i / 250)}.${i % 250}`,
    "virtual-ports": String(which === 0 ? 80 : 8000 + (i % 100)),
    scheduler: "weight",
    backends: [
      { name: "b1", "ip-addr": a1, port: "8080", weight: String(which === 0 ? 1 : 3) },
      { name: "b2", "ip-addr": a2, port: "8080", state: which === 0 || i % 2 === 0 ? "up" : "down" },
    ],
  }));
  return buildRuleset(parseConfig({ farms }), { table: T });
}

async function ours(): Promise<string> {
  const run = await lab.exec(lab.balancer.ns, ["nft", "-s", "list", "table", "inet", T]);
  return run.code === 0 ? run.stdout : `(no table: ${run.stderr.trim()})`;
}

/** The revision the state dir holds (snapshot and journal), read as the agent reads it at start. */
async function savedRevision(): Promise<number> {
  const state = await new StateDir(join(dir, "state")).load();
  if (state?.managed === undefined) throw new Error("the state dir holds no managed revision");
  return state.managed.revision;
}

const start = () => startAgent(lab, { stateDir: join(dir, "state"), args: ["--managed", "--token-file", join(dir, "token"), "--drift-interval", "0"] }, 60_000);
const put = (revision: number, ir: IrRuleset) => agent!.client.managed("PUT", "/v1/ruleset", TOKEN, { revision, hash: irHash(ir), ir });
const patch = (revision: number, from: IrRuleset, to: IrRuleset) =>
  agent!.client.managed("PATCH", "/v1/ruleset", TOKEN, { revision, baseHash: irHash(from), hash: irHash(to), patch: diffIr(from, to) });

beforeAll(async () => {
  lab = await createLab({ backends: 2 });
  await addForeignTables(lab);
  dir = mkdtempSync(join(tmpdir(), "switchyard-crash-"));
  writeFileSync(join(dir, "token"), TOKEN, { mode: 0o600 });
});
afterAll(async () => {
  await agent?.stop("SIGKILL");
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("kill -9 during an apply", () => {
  it(`${KILLS} kills at random moments: the kernel holds the old or the new ruleset, and after a restart what the state dir says`, async () => {
    const irs = [variant(0), variant(1)] as const;
    agent = await start();
    expect((await put(1, irs[1])).status).toBe(200);
    const listings = new Map<number, string>();
    listings.set(1, await ours());
    const started = performance.now();
    expect((await put(2, irs[0])).status).toBe(200);
    const applyMs = performance.now() - started;
    listings.set(0, await ours());
    expect(listings.get(0)).not.toBe(listings.get(1));
    const foreign = await listForeignTables(lab);

    let revision = 2;
    // The patch path commits the same way: one PATCH, before the kills, proves it applies here.
    expect((await patch(3, irs[0], irs[1])).body).toEqual({ applied: 3, changed: true });
    expect(await ours()).toBe(listings.get(1));
    revision = 3;
    const outcomes = { old: 0, new: 0 };
    for (let kill = 0; kill < KILLS; kill++) {
      const next = revision + 1;
      const nextIr = irs[next % 2 as 0 | 1];
      const request = (kill % 2 === 0 ? put(next, nextIr) : patch(next, irs[revision % 2 as 0 | 1], nextIr)).catch((error: unknown) => error);
      // From right away to a little after a typical apply (request, delta, save included).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * applyMs * 1.3));
      await agent.stop("SIGKILL");
      await request;
      // An nft the agent started may still be committing: let it finish before looking.
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      const kernel = await ours();
      const inKernel = kernel === listings.get(next % 2) ? next : kernel === listings.get(revision % 2) ? revision : null;
      expect(inKernel, `kill ${kill}: the kernel holds neither the old nor the new ruleset:\n${kernel.slice(0, 2000)}`).not.toBeNull();
      const saved = await savedRevision();
      expect([revision, next]).toContain(saved);
      // The agent saves after the kernel took the rules: saved new ⇒ kernel new.
      if (saved === next) expect(inKernel).toBe(next);
      outcomes[inKernel === next ? "new" : "old"]++;

      agent = await start();
      const status = (await agent.client.managed("GET", "/v1/status", TOKEN)).body as { appliedRevision: number };
      expect(status.appliedRevision).toBe(saved);
      expect(await ours()).toBe(listings.get(saved % 2));
      revision = saved;
      expect(await listForeignTables(lab)).toBe(foreign);
    }
    console.log(`kill -9 outcomes over ${KILLS} kills (apply ≈ ${Math.round(applyMs)} ms): kernel kept the old ruleset ${outcomes.old}×, had the new one ${outcomes.new}×`);
  });
});
