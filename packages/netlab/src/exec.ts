import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { ExecOptions, ExecResult } from "./types.ts";

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * The processes one lab started. They are killed by their own pid and by nothing else:
 * `ip netns exec` execs its command, so the pid we hold is the command's pid.
 */
export class Children {
  readonly live = new Set<ChildProcess>();

  spawn(argv: string[]): ChildProcess {
    const [cmd = "", ...args] = argv;
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.live.add(child);
    const forget = () => this.live.delete(child);
    child.once("exit", forget);
    child.once("error", forget);
    child.stdin?.on("error", () => {}); // EPIPE when the command does not read its input
    return child;
  }

  /** Runs argv to completion, collecting its output; never rejects for a non-zero exit. */
  run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = this.spawn(argv);
      let stdout = "";
      let stderr = "";
      let timedOut = false;
      child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        if (timedOut) resolve({ stdout, stderr: `${stderr}netlab: ${argv.join(" ")}: timed out after ${timeoutMs} ms\n`, code: 124 });
        else resolve({ stdout, stderr, code: code ?? 128 + (signal ? constants.signals[signal] : 0) });
      };
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once("close", done);
      // A killed command whose output a grandchild still holds open: do not wait for the pipes.
      child.once("exit", (code, signal) => {
        if (timedOut) done(code, signal);
      });
      child.stdin?.end(opts.input ?? "");
    });
  }

  /** SIGTERM, then SIGKILL after graceMs to whatever is still alive; waits for the exits (bounded). */
  async killAll(graceMs = 1000): Promise<void> {
    const waitExit = (c: ChildProcess, ms: number) =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((res) => {
            const t = setTimeout(res, ms);
            c.once("exit", () => {
              clearTimeout(t);
              res();
            });
          });
    const all = [...this.live];
    for (const c of all) c.kill("SIGTERM");
    await Promise.all(all.map((c) => waitExit(c, graceMs)));
    const stubborn = all.filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of stubborn) c.kill("SIGKILL");
    await Promise.all(stubborn.map((c) => waitExit(c, 2000)));
  }

  /** For the process 'exit' handler: no waiting possible. */
  killAllSync(): void {
    for (const c of this.live) c.kill("SIGKILL");
  }
}

/** `ip ARGS...` with a non-zero exit turned into an error carrying ip's own words. */
export async function mustRun(children: Children, argv: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await children.run(argv, opts);
  if (r.code !== 0) throw new Error(`netlab: ${argv.join(" ")} exited ${r.code}: ${r.stderr.trim()}${opts.input ? `\ninput:\n${opts.input}` : ""}`);
  return r.stdout;
}
