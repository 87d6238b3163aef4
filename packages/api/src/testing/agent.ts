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
 * script's table block is in nft's listing layout), and the named counters' values.
 */
export class ScriptedKernel implements NftRunner {
  /** `nft -s list table inet TABLE` as the kernel would print it; null: the table is gone. */
  table: string | null = null;
  /** Counter name → packets (new connections); bytes are not reported. */
  readonly counters = new Map<string, number>();

  constructor(private readonly name = "switchyard") {}

  async run(args: readonly string[], input = ""): Promise<RunResult> {
    const command = args.join(" ");
    if (command === "--version") return ok("nftables v1.0.6 (Lester Gooch #5)");
    if (command === "list tables" || command === "--check -f -") return ok();
    if (command === "-f -") {
      const start = input.indexOf(`table inet ${this.name} {\n`);
      if (start >= 0) this.table = input.slice(start, input.indexOf("\n}\n", start) + 3);
      return ok();
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
