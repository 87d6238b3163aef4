import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// Starts harness/main.ts (the fleet) as a child and waits for its info file. Its pid goes to
// global-teardown through the environment of this process, which the runner keeps.
const HERE = resolve(fileURLToPath(new URL(".", import.meta.url)));
export const INFO_FILE = join(HERE, "..", ".ci-out", "e2e", "fleet.json");

export default async function globalSetup(): Promise<void> {
  mkdirSync(join(HERE, "..", ".ci-out", "e2e"), { recursive: true });
  rmSync(INFO_FILE, { force: true });
  const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "harness", "main.ts"), INFO_FILE, process.env.E2E_PORT ?? "3900"], {
    cwd: HERE,
    stdio: ["pipe", "inherit", "inherit"],
  });
  process.env.E2E_FLEET_PID = String(child.pid);
  const deadline = Date.now() + 180_000;
  while (!existsSync(INFO_FILE)) {
    if (child.exitCode !== null) throw new Error(`the e2e fleet exited with ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error("the e2e fleet was not ready within 180 s");
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  process.env.E2E_FLEET = readFileSync(INFO_FILE, "utf8");
}
