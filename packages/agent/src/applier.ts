import {
  buildRuleset,
  neededFacts,
  OWNED_FAMILIES,
  renderReplaceScript,
  type Config,
  type Facts,
  type IrRuleset,
  type NeededFacts,
} from "@switchyard/core";
import type { Logger } from "./log.ts";
import type { NftDriver } from "./nft/driver.ts";

/**
 * Turns the IR the agent last applied (null: unknown, after start-up or a failure) and the
 * desired IR into one nft script. The full replace is always right; a delta planner gives a
 * smaller transaction that keeps dynamic sets and is dropped in here.
 */
export type ScriptPlanner = (from: IrRuleset | null, to: IrRuleset, table: string) => { script: string; kind: "replace" | "delta" };

export const fullReplace: ScriptPlanner = (_from, to, table) => ({ script: renderReplaceScript(to, table), kind: "replace" });

/** An IR the agent must not apply: it would touch a table that is not its own. */
export class IrRefused extends Error {
  constructor(message: string) {
    super(`ruleset refused: ${message}`);
    this.name = "IrRefused";
  }
}

export interface ApplierOptions {
  driver: NftDriver;
  table: string;
  planner?: ScriptPlanner;
  /**
   * Checks the IR's rule statements before anything is rendered (no statement separators,
   * jumps only to the table's own chains); throws to refuse. core's checkIr drops in here.
   */
  checkIr?: (ir: IrRuleset, table: string) => void;
  log?: Logger;
}

/**
 * Applies rulesets (IR) to the kernel, each as one checked nft transaction, and remembers
 * the last one it applied so that the next can be a delta from it. Both modes go through
 * here: standalone renders its own IR from the farm config, managed receives it.
 */
export class Applier {
  private last: IrRuleset | null = null;
  private readonly planner: ScriptPlanner;

  constructor(private readonly options: ApplierOptions) {
    this.planner = options.planner ?? fullReplace;
  }

  get table(): string {
    return this.options.table;
  }

  /** The IR the kernel holds as far as this agent knows, or null when it does not know. */
  get lastApplied(): IrRuleset | null {
    return this.last;
  }

  /** Checks then commits `ir`; on any failure the kernel is as it was and the next apply is a full replace. */
  async apply(ir: IrRuleset): Promise<{ kind: "replace" | "delta"; script: string }> {
    this.assertOwnTables(ir);
    try {
      this.options.checkIr?.(ir, this.table);
    } catch (error) {
      throw new IrRefused(error instanceof Error ? error.message : String(error));
    }
    const planned = this.last === null ? fullReplace(null, ir, this.table) : this.planner(this.last, ir, this.table);
    this.last = null;
    const started = performance.now();
    await this.options.driver.check(planned.script);
    await this.options.driver.apply(planned.script);
    this.last = structuredClone(ir);
    this.options.log?.debug({ kind: planned.kind, bytes: planned.script.length, ms: Math.round(performance.now() - started) }, "ruleset applied");
    return planned;
  }

  /** The agent composes its tables' commands itself: an IR may only hold its own tables. */
  private assertOwnTables(ir: IrRuleset): void {
    const seen = new Set<string>();
    for (const table of ir.tables) {
      if (table.name !== this.table) throw new IrRefused(`table ${table.family} ${table.name} is not the agent's (${this.table})`);
      if (!OWNED_FAMILIES.includes(table.family)) throw new IrRefused(`table family ${table.family} is not one the agent owns`);
      if (seen.has(table.family)) throw new IrRefused(`table ${table.family} ${table.name} appears twice`);
      seen.add(table.family);
    }
  }
}

export type FactResolver = (needed: NeededFacts) => Promise<Facts>;

/** Standalone mode: the farm config rendered to the IR, with the host facts dsr farms need. */
export async function renderConfig(config: Config, table: string, resolveFacts: FactResolver): Promise<IrRuleset> {
  const facts = await resolveFacts(neededFacts(config));
  return buildRuleset(config, { table, facts });
}
