import { buildRuleset, parseConfig, type CounterValues, type IrRuleset } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { Applier, type ReplacePath } from "./applier.ts";
import { NftDriver } from "./nft/driver.ts";
import type { NftRunner, RunResult } from "./nft/runner.ts";

// The full replace's two ways: the agent's own netlink batch when it encodes the IR, nft -f
// otherwise, and nft -f again when the kernel refused the batch (a replace is whole whatever
// the kernel holds). The batch itself is proven against nft and the kernel in
// nft/netlink/replace.integration.test.ts.

class Recorder implements NftRunner {
  readonly calls: string[] = [];
  constructor(private readonly code = 0) {}
  async run(args: readonly string[]): Promise<RunResult> {
    this.calls.push(args.join(" "));
    return { stdout: "", stderr: this.code === 0 ? "" : "Error: refused by nft", code: this.code };
  }
}

const ir = buildRuleset(parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] }] }));

function path(options: { encodes?: boolean; refuses?: boolean }): ReplacePath & { sent: number; encoded: { ir: IrRuleset; counters: CounterValues | undefined }[] } {
  const p = {
    sent: 0,
    encoded: [] as { ir: IrRuleset; counters: CounterValues | undefined }[],
    encode(next: IrRuleset, _table: string, counters?: CounterValues) {
      p.encoded.push({ ir: next, counters });
      return options.encodes === false ? null : Buffer.alloc(64);
    },
    send() {
      if (options.refuses) throw new Error("kernel refused message 3 of 9");
      p.sent++;
    },
  };
  return p;
}

describe("Applier: a full replace", () => {
  it("goes as the netlink batch when it encodes the IR, with the counters read before it, and nft is not run", async () => {
    const nft = new Recorder();
    const replace = path({});
    const counters = new Map([["c/web/b1", { packets: 4, bytes: 240 }]]);
    const applier = new Applier({ driver: new NftDriver(nft), table: "switchyard", replacePath: replace, readCounters: async () => counters });
    expect(await applier.apply(ir)).toEqual({ kind: "replace", bytes: 64, via: "netlink" });
    expect(replace.encoded).toEqual([{ ir, counters }]);
    expect(replace.sent).toBe(1);
    expect(nft.calls).toEqual([]);
  });

  it("goes through nft when the IR holds what the batch does not encode", async () => {
    const nft = new Recorder();
    const replace = path({ encodes: false });
    const applier = new Applier({ driver: new NftDriver(nft), table: "switchyard", replacePath: replace });
    expect(await applier.apply(ir)).toMatchObject({ kind: "replace", via: "nft" });
    expect(replace.sent).toBe(0);
    expect(nft.calls).toEqual(["-f -"]);
  });

  it("goes through nft when the kernel refused the batch, and nft's refusal is the apply's error", async () => {
    const worked = new Recorder();
    const applier = new Applier({ driver: new NftDriver(worked), table: "switchyard", replacePath: path({ refuses: true }) });
    expect(await applier.apply(ir)).toMatchObject({ kind: "replace", via: "nft" });
    expect(worked.calls).toEqual(["-f -"]);
    const refused = new Applier({ driver: new NftDriver(new Recorder(1)), table: "switchyard", replacePath: path({ refuses: true }) });
    await expect(refused.apply(ir)).rejects.toThrow(/nft apply failed: Error: refused by nft/);
    expect(refused.lastApplied).toBeNull();
  });
});
