import { readFile } from "node:fs/promises";
import { buildRuleset, neededFacts, parseNftlbJson, renderReplaceScript, type Config, type Facts, type NeededFacts } from "@switchyard/core";
import type { NftDriver } from "./nft/driver.ts";

export interface ApplyOptions {
  table: string;
  driver: NftDriver;
  resolveFacts: (needed: NeededFacts) => Promise<Facts>;
  /** "check" stops after `nft --check`; "print" stops after rendering. */
  stopAfter?: "print" | "check";
}

export interface ApplyOutcome {
  config: Config;
  script: string;
}

/**
 * Reads an nftlb-style config, renders it and replaces the agent's tables in one checked
 * transaction. Any failure (a bad config, a missing fact, nft refusing the script) throws
 * before the kernel is touched, or inside nft's own all-or-nothing commit.
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
  const script = renderReplaceScript(buildRuleset(config, { table: options.table, facts }), options.table);
  if (options.stopAfter === "print") return { config, script };
  await options.driver.check(script);
  if (options.stopAfter !== "check") await options.driver.apply(script);
  return { config, script };
}
