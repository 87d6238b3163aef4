import { fileURLToPath } from "node:url";
import { labAddress } from "./addresses.ts";
import { assertOwn, type LabContext } from "./topology.ts";
import type { ConnectOptions, Host, Tally } from "./types.ts";

const CLIENT = fileURLToPath(new URL("./scripts/client.mjs", import.meta.url));
const MAX_COUNT = 1_000_000;

function check(opts: ConnectOptions): void {
  const int = (v: number | undefined, min: number, max: number, what: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new Error(`netlab: connect: bad ${what} ${v}`);
  };
  if (opts.proto !== "tcp" && opts.proto !== "udp") throw new Error(`netlab: connect: bad proto ${String(opts.proto)}`);
  labAddress(opts.target);
  for (const s of opts.sources ?? []) labAddress(s);
  int(opts.port, 1, 65535, "port");
  int(opts.count, 0, MAX_COUNT, "count");
  int(opts.sourcePort, 1, 65535, "sourcePort");
  int(opts.concurrency, 1, 1024, "concurrency");
  int(opts.timeoutMs, 1, 600_000, "timeoutMs");
  int(opts.deadlineMs, 1, 3_600_000, "deadlineMs");
}

/** Runs the bounded client loop in the `from` namespace and returns where each connection went. */
export async function connect(ctx: LabContext, client: Host, opts: ConnectOptions): Promise<Tally> {
  check(opts);
  const { from = client, ...rest } = opts;
  assertOwn(ctx, from.ns);
  const deadlineMs = opts.deadlineMs ?? 60_000;
  // The script stops by itself at the deadline; this is only the backstop.
  const run = await ctx.children.run(["ip", "netns", "exec", from.ns, process.execPath, CLIENT, JSON.stringify(rest)], { timeoutMs: deadlineMs + 10_000 });
  if (run.code !== 0) throw new Error(`netlab: client in ${from.ns} exited ${run.code}: ${run.stderr.trim()}`);
  try {
    return JSON.parse(run.stdout) as Tally;
  } catch {
    throw new Error(`netlab: client in ${from.ns} printed no tally: ${run.stdout.slice(0, 500)} ${run.stderr.slice(0, 500)}`);
  }
}
