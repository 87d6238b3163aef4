import { fileURLToPath } from "node:url";
import { labAddress } from "./addresses.ts";
import { assertOwn, type LabContext } from "./topology.ts";
import type { HoldOptions, HoldReport, HoldSession, Host } from "./types.ts";

const HOLDER = fileURLToPath(new URL("./scripts/holder.mjs", import.meta.url));

/** Starts the holder in the `from` namespace and resolves once every connection is established. */
export function hold(ctx: LabContext, client: Host, opts: HoldOptions): Promise<HoldSession> {
  const { from = client, ...rest } = opts;
  assertOwn(ctx, from.ns);
  labAddress(opts.target);
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 1000) throw new Error(`netlab: hold: count must be 1..1000, not ${opts.count}`);
  const child = ctx.children.spawn(["ip", "netns", "exec", from.ns, process.execPath, HOLDER, JSON.stringify(rest)]);
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  const waiters: (() => void)[] = [];
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    partial += d;
    let i;
    while ((i = partial.indexOf("\n")) >= 0) {
      lines.push(partial.slice(0, i));
      partial = partial.slice(i + 1);
    }
    waiters.splice(0).forEach((w) => w());
  });
  child.once("exit", () => waiters.splice(0).forEach((w) => w()));

  const nextLine = (what: string, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`netlab: hold: no ${what} within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      const check = () => {
        const line = lines.shift();
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`netlab: hold: holder exited before its ${what}: ${stderr}`));
        } else waiters.push(check);
      };
      check();
    });

  return nextLine("connections", 10_000).then((line) => {
    const { ready } = JSON.parse(line) as { ready: (string | null)[] };
    return {
      backends: ready,
      async stop(): Promise<HoldReport> {
        child.stdin?.end("stop\n");
        return JSON.parse(await nextLine("report", 15_000)) as HoldReport;
      },
    };
  });
}
