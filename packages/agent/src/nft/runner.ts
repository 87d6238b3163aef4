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

export function execRunner(binary = "nft"): NftRunner {
  return {
    run(args, input) {
      return new Promise((resolve, reject) => {
        const child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
        child.on("error", (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)));
        child.on("close", (code) =>
          resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code: code ?? 1 }),
        );
        child.stdin.on("error", () => {}); // nft may exit before reading everything; "close" reports it.
        child.stdin.end(input ?? "");
      });
    },
  };
}
