import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Lab } from "@switchyard/netlab";

export const AGENT_BIN = resolve(import.meta.dirname, "../../../../bin/switchyard-agent");

export interface AgentRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `switchyard-agent -c FILE -e` inside the lab's balancer namespace, as a user would. */
export async function applyInLab(lab: Lab, config: unknown, extraArgs: string[] = []): Promise<AgentRun> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-config-"));
  try {
    const file = join(dir, "farms.json");
    writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config));
    return await lab.exec(lab.balancer.ns, [AGENT_BIN, "-c", file, "-e", ...extraArgs], { timeoutMs: 30_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like applyInLab, but a failure is a test failure carrying the agent's own words. */
export async function mustApply(lab: Lab, config: unknown, extraArgs: string[] = []): Promise<void> {
  const run = await applyInLab(lab, config, extraArgs);
  if (run.code !== 0) throw new Error(`agent exited ${run.code}: ${run.stderr}`);
}

export async function listRuleset(lab: Lab): Promise<string> {
  const run = await lab.exec(lab.balancer.ns, ["nft", "list", "ruleset"]);
  if (run.code !== 0) throw new Error(`nft list ruleset: ${run.stderr}`);
  return run.stdout;
}

/** The backend addresses of a lab, keyed by name, for building configs. */
export function backendAddrs(lab: Lab, family: 4 | 6 = 4): string[] {
  return lab.backends.map((b) => (family === 4 ? b.ipv4[0] : b.ipv6[0]) ?? "");
}
