import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, Daemon, type NftRunner, type RunResult } from "@switchyard/agent";

// The real agent daemon (its HTTP server, managed API, drift watcher and counter reader), in
// this process, with nft replaced by a scripted kernel: fast enough for unit tests of what the
// control plane does with an agent's answers. The real kernel is proven in the integration tests.

const ok = (stdout = ""): RunResult => ({ stdout, stderr: "", code: 0 });
const missing = (what: string): RunResult => ({ stdout: "", stderr: `Error: No such file or directory; did you mean ${what}?`, code: 1 });

/**
 * What `nft` answers the agent: the inet table as the last full replace wrote it (the replace
 * script's table block is in nft's listing layout, but for a counted set's elements, which nft
 * lists as `KEY counter`), the named counters' values and the counted elements'.
 */
export class ScriptedKernel implements NftRunner {
  /** `nft -s list table inet TABLE` as the kernel would print it; null: the table is gone. */
  table: string | null = null;
  /** Counter name → packets (new connections); bytes are 60 a packet. */
  readonly counters = new Map<string, number>();
  /** A counted set's element, by its key's text → packets; bytes are 60 a packet. */
  readonly elements = new Map<string, number>();

  constructor(private readonly name = "switchyard") {}

  async run(args: readonly string[], input = ""): Promise<RunResult> {
    const command = args.join(" ");
    if (command === "--version") return ok("nftables v1.0.6 (Lester Gooch #5)");
    if (command === `-c add table inet ${this.name}` || command === "--check -f -") return ok();
    if (command === "-f -") {
      const start = input.indexOf(`table inet ${this.name} {\n`);
      if (start >= 0) this.table = listingOf(input.slice(start, input.indexOf("\n}\n", start) + 3));
      return ok();
    }
    const set = new RegExp(`^list set inet ${this.name} (\\S+)$`).exec(command);
    if (set !== null) {
      const keys = this.table === null ? null : countedKeys(this.table, set[1] as string);
      if (keys === null) return missing("set");
      const listed = keys.map((k) => `${k} counter packets ${this.elements.get(k) ?? 0} bytes ${(this.elements.get(k) ?? 0) * 60}`);
      return ok(`table inet ${this.name} {\n\tset ${set[1]} {\n\t\tcounter\n\t\telements = { ${listed.join(",\n\t\t\t     ")} }\n\t}\n}\n`);
    }
    if (command === `--stateless list table inet ${this.name}`) return this.table === null ? missing("table") : ok(this.table);
    if (command.startsWith("--stateless list table ")) return missing("table");
    if (command === `-j list counters table inet ${this.name}`) {
      if (this.table === null) return missing("table");
      return ok(JSON.stringify({ nftables: [...this.counters].map(([name, packets]) => ({ counter: { family: "inet", name, table: this.name, packets, bytes: packets * 60 } })) }));
    }
    return { stdout: "", stderr: `scripted kernel: no answer for nft ${command}`, code: 1 };
  }
}

/** The table block of a replace script as `nft -s list` prints it: a counted set's elements as `KEY counter`. */
function listingOf(block: string): string {
  let counted = false;
  return block
    .split("\n")
    .map((line) => {
      if (/^\tset \S+ \{$/.test(line)) counted = true;
      else if (/^\t(map|chain|counter) /.test(line)) counted = false;
      const element = /^\t\t\t(\S.*?)(,?)$/.exec(line);
      return counted && element !== null ? `\t\t\t${element[1]} counter${element[2]}` : line;
    })
    .join("\n");
}

/** The keys of a counted set in a listing, null when the table has no such set. */
function countedKeys(listing: string, set: string): string[] | null {
  const start = listing.indexOf(`\tset ${set} {\n`);
  if (start < 0) return null;
  const block = listing.slice(start, listing.indexOf("\n\t}", start));
  return [...block.matchAll(/^\t\t\t(\S.*?) counter,?$/gm)].map((m) => m[1] as string);
}

export interface ScriptedAgent {
  url: string;
  kernel: ScriptedKernel;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the agent's URL must be known before its token is). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A managed agent on 127.0.0.1:`port` that accepts `token`; drift is checked on request only. */
export async function startScriptedAgent(token: string, port: number): Promise<ScriptedAgent> {
  const stateDir = mkdtempSync(join(tmpdir(), "switchyard-scripted-agent-"));
  const kernel = new ScriptedKernel();
  const daemon = new Daemon({
    key: "k".repeat(32),
    host: "127.0.0.1",
    port,
    stateDir,
    table: "switchyard",
    log: createLogger("silent"),
    runner: kernel,
    managed: { token },
    driftIntervalSeconds: 0,
    netlink: false,
  });
  await daemon.start();
  return {
    url: `http://127.0.0.1:${port}`,
    kernel,
    stop: async () => {
      await daemon.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
