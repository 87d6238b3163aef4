// A control plane for the web benchmark: a fresh data dir with a user and N farms (committed
// through the API's commitChange), served by bin/switchyard serve as an operator would run it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hashPassword } from "@switchyard/api";
import { migrate, openDatabase } from "@switchyard/db";
import { seedFarms } from "./seed.ts";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const USER = { username: "bench", password: "bench password 0" };

export interface RunningControlPlane {
  url: string;
  dir: string;
  /** How long committing the farms took (one import revision). */
  seedMs: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? ok(address.port) : fail(new Error("no port"))));
    });
  });
}

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`bin/switchyard serve did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /control plane on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        ok(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`bin/switchyard serve exited (${code}) before listening:\n${output}`));
    });
  });
}

export async function startControlPlane(farms: number): Promise<RunningControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-bench-web-${farms}-`));
  const database = join(dir, "switchyard.db");
  await migrate(database);
  const db = openDatabase({ path: database });
  let seedMs: number;
  try {
    await db.user.create({ data: { username: USER.username, passwordHash: await hashPassword(USER.password), role: "admin" } });
    const started = performance.now();
    await seedFarms(db, farms);
    seedMs = performance.now() - started;
  } finally {
    await db.$disconnect();
  }
  const port = await freePort();
  const child = spawn(join(ROOT, "bin/switchyard"), ["serve", "-H", "127.0.0.1", "-P", String(port), "--data-dir", dir], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    return { url: await waitForListening(child, 30_000), dir, seedMs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
