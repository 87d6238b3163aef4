import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import type { Children } from "./exec.ts";

/** What a live lab owns: the namespaces it created and the processes it started. */
export interface Owned {
  namespaces: Set<string>;
  children: Children;
}

const live = new Set<Owned>();
let hooked = false;

/** Kills and deletes everything still owned, synchronously: for 'exit' and fatal signals. */
function cleanupSync(): void {
  for (const owned of live) {
    owned.children.killAllSync();
    for (const ns of owned.namespaces) {
      try {
        execFileSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: 5000 });
      } catch {
        // already gone
      }
    }
    owned.namespaces.clear();
  }
  live.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", cleanupSync);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      cleanupSync();
      process.removeListener(sig, onSignal);
      // Keep the default behaviour (die of the signal) unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

export function track(owned: Owned): void {
  hook();
  live.add(owned);
}

export function untrack(owned: Owned): void {
  live.delete(owned);
}

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await promisify(execFile)("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter(Boolean);
}

/**
 * Namespaces whose names start with prefixStart and that no live lab of this process owns:
 * leftovers of a crashed run, or another run's. Only listed, never deleted here.
 */
export async function listStaleNamespaces(prefixStart = "sy-"): Promise<string[]> {
  const ours = new Set([...live].flatMap((o) => [...o.namespaces]));
  return (await listNamespaces()).filter((ns) => ns.startsWith(prefixStart) && !ours.has(ns));
}
