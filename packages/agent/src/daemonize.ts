import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

// nftlb's -d in Node: there is no fork(), so the agent starts itself again detached (a new
// session, no terminal, cwd /), with its output going to a log file or /dev/null, and waits
// for the child to say that it listens (or why it could not start) before it exits itself.

/** What the detached child tells its parent over the IPC channel. */
export type ChildReport = { type: "ready"; host: string; port: number } | { type: "error"; message: string };

export interface DaemonizeOptions {
  /** The child's arguments (without -d; paths absolute, since the child runs in /). */
  args: string[];
  /** Extra environment for the child. */
  env: Record<string, string>;
  /** Where the child's stdout and stderr go; null: /dev/null. */
  logFile: string | null;
  /** How long the child may take to start (re-applying a large ruleset included). */
  timeoutMs?: number;
}

/** Starts the detached child and resolves with the exit code for the parent. */
export function daemonize(options: DaemonizeOptions): Promise<number> {
  let out: number | "ignore" = "ignore";
  if (options.logFile !== null) {
    try {
      out = openSync(options.logFile, "a", 0o600);
    } catch (error) {
      process.stderr.write(`switchyard-agent: cannot open the log file ${options.logFile}: ${(error as Error).message}\n`);
      return Promise.resolve(1);
    }
  }
  const script = process.argv[1] ?? "";
  const child = spawn(process.execPath, [...process.execArgv, script, ...options.args], {
    detached: true,
    cwd: "/",
    stdio: ["ignore", out, out, "ipc"],
    env: { ...process.env, ...options.env, SWITCHYARD_AGENT_DAEMONIZED: "1" },
  });
  if (typeof out === "number") closeSync(out);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (code: number, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      (code === 0 ? process.stdout : process.stderr).write(message);
      if (child.connected) child.disconnect();
      child.unref();
      resolve(code);
    };
    const timer = setTimeout(
      () => settle(1, `switchyard-agent: the daemon (pid ${child.pid}) did not report ready in time; it keeps running, see its log\n`),
      options.timeoutMs ?? 120_000,
    );
    child.on("message", (report: ChildReport) => {
      if (report.type === "ready") settle(0, `${child.pid}\n`);
      else settle(1, `switchyard-agent: ${report.message}\n`);
    });
    child.on("error", (error) => settle(1, `switchyard-agent: cannot start the daemon: ${error.message}\n`));
    child.on("exit", (code, signal) => settle(1, `switchyard-agent: the daemon exited during start-up (${signal ?? `code ${code}`})\n`));
  });
}

/** In the detached child: report to the parent once, then let it go. */
export function reportToParent(report: ChildReport): void {
  if (process.send === undefined || !process.connected) return;
  process.send(report, () => {
    if (process.connected) process.disconnect();
  });
}
