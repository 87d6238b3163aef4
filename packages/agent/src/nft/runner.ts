import { spawn } from "node:child_process";

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * How the agent reaches nft: one method, injected, so that tests and benchmarks can wrap
 * or replace it without mocking modules. The real one runs the binary without a shell and
 * feeds the script through stdin.
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

export function execRunner(binary = "nft", timeoutMs = NFT_TIMEOUT_MS): NftRunner {
  return {
    run(args, input) {
      return new Promise((resolve, reject) => {
        const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, timeoutMs);
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
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
        child.stdin.on("error", () => {}); // nft may exit before reading everything; "close" reports it.
        child.stdin.end(input ?? "");
      });
    },
  };
}
