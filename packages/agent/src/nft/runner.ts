import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * How the agent reaches nft: one method, injected, so that tests and benchmarks can wrap
 * or replace it without mocking modules. `input` is the script for `-f -`.
 */
export interface NftRunner {
  run(args: readonly string[], input?: string): Promise<RunResult>;
}

/**
 * A hung nft (a kernel busy under a huge transaction, a stuck netlink socket) must not hold
 * the agent's change queue forever. Killing nft is safe: the kernel commits a batch whole or
 * not at all. A cold apply of 10,000 farms takes about a second here.
 */
export const NFT_TIMEOUT_MS = 60_000;

/**
 * Runs the binary without a shell. A script for `-f -` is written whole to a private file and
 * nft reads that file: through a pipe, an agent killed in the middle of writing would leave nft
 * a script cut at a line boundary, which nft would commit as a transaction of its own (half a
 * delta, or a replace cut right after `delete table`). A file is complete before nft starts.
 */
export function execRunner(binary = "nft", timeoutMs = NFT_TIMEOUT_MS): NftRunner {
  let dir: string | null = null;
  let serial = 0;
  const scriptFile = (script: string): string => {
    if (dir === null) {
      const made = mkdtempSync(join(tmpdir(), "switchyard-nft-"));
      process.once("exit", () => rmSync(made, { recursive: true, force: true }));
      dir = made;
    }
    const file = join(dir, `script-${process.pid}-${++serial}.nft`);
    writeFileSync(file, script, { mode: 0o600 });
    return file;
  };
  return {
    run(args, input) {
      const dash = args.findIndex((arg, i) => arg === "-" && args[i - 1] === "-f");
      const file = dash >= 0 ? scriptFile(input ?? "") : null;
      const argv = file === null ? [...args] : args.map((arg, i) => (i === dash ? file : arg));
      const cleanup = () => file !== null && rmSync(file, { force: true });
      return new Promise<RunResult>((resolve, reject) => {
        const child = spawn(binary, argv, { stdio: [file === null ? "pipe" : "ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, timeoutMs);
        child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
        child.on("error", (error) => {
          clearTimeout(timer);
          reject(new Error(`cannot run ${binary}: ${error.message}`));
        });
        child.on("close", (code) => {
          clearTimeout(timer);
          const stderr = Buffer.concat(err).toString();
          resolve({
            stdout: Buffer.concat(out).toString(),
            stderr: timedOut ? `${binary} ${args.join(" ")} did not finish in ${timeoutMs} ms and was killed\n${stderr}` : stderr,
            code: timedOut ? 1 : (code ?? 1),
          });
        });
        if (child.stdin !== null) {
          child.stdin.on("error", () => {}); // nft may exit before reading everything; "close" reports it.
          child.stdin.end(input ?? "");
        }
      }).finally(cleanup);
    },
  };
}
