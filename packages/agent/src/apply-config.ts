import { readFile } from "node:fs/promises";
import { buildRuleset, neededFacts, parseNftlbJson, renderReplaceScript, type Config, type Facts, type NeededFacts } from "@switchyard/core";
import type { ReplacePath } from "./applier.ts";
import type { NftDriver } from "./nft/driver.ts";

export interface ApplyOptions {
  table: string;
  driver: NftDriver;
  resolveFacts: (needed: NeededFacts) => Promise<Facts>;
  /** "check" stops after `nft --check`; "print" stops after rendering. */
  stopAfter?: "print" | "check";
  /** The agent's own netlink batch for the replace (as the daemon's); nft when absent, when it does not encode the IR, or when the kernel refused it. */
  replacePath?: ReplacePath;
  /** Told why the batch failed, before nft tries. */
  onBatchFailure?: (reason: string) => void;
}

export interface ApplyOutcome {
  config: Config;
  /** The nft script, when one was rendered (print, check, or an apply through nft). */
  script?: string;
  /** How the tables were replaced; null when nothing was applied (print, check). */
  via: "netlink" | "nft" | null;
}

/**
 * Reads an nftlb-style config, renders it and replaces the agent's tables in one transaction:
 * the agent's own netlink batch when it encodes the ruleset, else `nft --check` then `nft -f`
 * of the script. Any failure (a bad config, a missing fact, the kernel or nft refusing it)
 * throws before the kernel is touched, or inside the kernel's all-or-nothing commit.
 */
export async function applyConfigFile(path: string, options: ApplyOptions): Promise<ApplyOutcome> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read config ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const config = parseNftlbJson(text);
  const facts = await options.resolveFacts(neededFacts(config));
  const ir = buildRuleset(config, { table: options.table, facts, memo: false });
  if (options.stopAfter === undefined && options.replacePath !== undefined) {
    const batch = options.replacePath.encode(ir, options.table);
    if (batch !== null) {
      try {
        await options.replacePath.send(batch);
        return { config, via: "netlink" };
      } catch (error) {
        // Nothing changed (or the replace is whole anyway): nft checks the same and says why in its words.
        options.onBatchFailure?.((error as Error).message);
      }
    }
  }
  const script = renderReplaceScript(ir, options.table);
  if (options.stopAfter === "print") return { config, script, via: null };
  await options.driver.check(script);
  if (options.stopAfter === "check") return { config, script, via: null };
  await options.driver.apply(script);
  return { config, script, via: "nft" };
}
