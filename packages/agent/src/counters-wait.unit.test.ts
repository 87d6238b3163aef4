import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRuleset, irHash, parseConfig, type IrRuleset } from "@switchyard/core";
import { afterEach, describe, expect, it } from "vitest";
import { Daemon } from "./daemon.ts";
import { createLogger } from "./log.ts";
import type { NftRunner, RunResult } from "./nft/runner.ts";

// A counters report reads the kernel between applies, never during one: a set element dump
// that a commit lands in can come back short (see nft/netlink/elements.ts). The daemon as it is
// wired, over real HTTP, with nft behind a runner that holds an apply open until told to go on
// (netlink off: every read and write goes through the runner, so its log is the order of events).

const TOKEN = "t".repeat(40);

class GatedNft implements NftRunner {
  readonly log: string[] = [];
  private gate: { open: () => void; closed: Promise<void> } | null = null;

  /** The next `nft -f` waits until the returned function is called. */
  holdNextApply(): () => void {
    let open = () => {};
    const closed = new Promise<void>((resolve) => (open = resolve));
    this.gate = { open, closed };
    return open;
  }

  async run(args: readonly string[]): Promise<RunResult> {
    const call = args.join(" ");
    if (call === "--version") return { stdout: "nftables v1.0.6 (Lester Gooch #5)\n", stderr: "", code: 0 };
    if (call === "-f -") {
      this.log.push("apply begins");
      const gate = this.gate;
      this.gate = null;
      if (gate !== null) await gate.closed;
      this.log.push("apply ends");
      return { stdout: "", stderr: "", code: 0 };
    }
    this.log.push(call);
    if (call.startsWith("-j list counters")) return { stdout: '{"nftables": [{"metainfo": {"json_schema_version": 1}}]}', stderr: "", code: 0 };
    if (call.startsWith("list set")) return { stdout: "", stderr: "Error: No such file or directory\n", code: 1 };
    return { stdout: "", stderr: "", code: 0 };
  }
}

const ruleset = (port: string): IrRuleset =>
  buildRuleset(parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": port, backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] }] }));

let dir: string | undefined;
let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("a counters report during an apply", () => {
  it("waits for the apply to end before it reads anything", async () => {
    dir = mkdtempSync(join(tmpdir(), "switchyard-counters-wait-"));
    const nft = new GatedNft();
    daemon = new Daemon({
      key: "k".repeat(32),
      host: "127.0.0.1",
      port: 0,
      stateDir: dir,
      table: "switchyard",
      log: createLogger("silent"),
      runner: nft,
      managed: { token: TOKEN },
      driftIntervalSeconds: 0,
      netlink: false,
    });
    await daemon.start();
    const { port } = daemon.address ?? { port: 0 };
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    const first = ruleset("80");
    expect((await call("PUT", "/v1/ruleset", { revision: 1, hash: irHash(first), ir: first })).status).toBe(200);

    // Revision 2 changes the farm's port: a delta, held open in nft.
    const release = nft.holdNextApply();
    const second = ruleset("81");
    const applying = call("PUT", "/v1/ruleset", { revision: 2, hash: irHash(second), ir: second });
    await expect.poll(() => nft.log.at(-1)).toBe("apply begins");
    const reporting = call("GET", "/v1/counters");
    try {
      // The report is in, and has not read the kernel while the apply is open.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(nft.log.at(-1)).toBe("apply begins");
    } finally {
      release();
    }
    expect((await applying).status).toBe(200);
    const report = await reporting;
    expect(report.status).toBe(200);
    // Then it read, after the apply.
    const ended = nft.log.lastIndexOf("apply ends");
    expect(nft.log.slice(ended + 1).some((c) => c.startsWith("-j list counters"))).toBe(true);
  });
});
