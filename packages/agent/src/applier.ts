import {
  buildRuleset,
  neededFacts,
  OWNED_FAMILIES,
  planDelta,
  planPatch,
  renderOps,
  renderReplaceScript,
  type Config,
  type CounterValues,
  type Facts,
  type IrPatch,
  type IrRuleset,
  type NeededFacts,
  type NftOp,
} from "@switchyard/core";
import type { Logger } from "./log.ts";
import type { NftDriver } from "./nft/driver.ts";
import { SerialQueue } from "./serial-queue.ts";

/** An IR the agent must not apply: it would touch a table that is not its own. */
export class IrRefused extends Error {
  constructor(message: string) {
    super(`ruleset refused: ${message}`);
    this.name = "IrRefused";
  }
}

/**
 * A faster way to commit some deltas than `nft -f` (a netlink batch that skips nft's cache
 * load). "unsupported" means it sent nothing and nft must do it; a throw means the kernel
 * refused the batch, which it applies all or nothing.
 */
export interface FastPath {
  apply(ops: readonly NftOp[]): "applied" | "unsupported";
}

/**
 * A full replace as one netlink batch encoded by the agent (nft's parser and evaluation are
 * most of a cold `nft -f` at scale). `encode` gives null for an IR it does not encode (dsr's
 * netdev table, a rule shape it does not know): nft does it. `send` throws when the kernel
 * refused the batch (nothing changed) or its answer was lost.
 */
export interface ReplacePath {
  encode(ir: IrRuleset, table: string, counters?: CounterValues): Buffer | null;
  send(batch: Buffer): Promise<void> | void;
}

export interface ApplierOptions {
  driver: NftDriver;
  table: string;
  /**
   * Checks the IR's rule statements before anything is rendered (no statement separators,
   * jumps only to the table's own chains); throws to refuse. core's checkIr drops in here.
   */
  checkIr?: (ir: IrRuleset, table: string) => void;
  /**
   * checkIr for an IR made by patching the last one applied (core's checkPatchedIr drops in
   * here): it must refuse exactly what checkIr refuses. Without it, such an IR gets checkIr.
   */
  checkPatch?: (from: IrRuleset, patch: IrPatch, to: IrRuleset, table: string) => void;
  fastPath?: FastPath;
  replacePath?: ReplacePath;
  /**
   * The kernel's counters now, read before a full replace so that the new tables start from
   * them (a replace deletes the table, and with it every counter): the named ones, and the
   * counted elements of `ir` (the IR about to be applied) that the kernel holds under the same
   * key. Without it, or when the read fails, counters start from zero.
   */
  readCounters?: (ir: IrRuleset) => Promise<CounterValues>;
  log?: Logger;
}

/**
 * How an apply went: "replace" swapped the agent's tables whole, "delta" committed only the
 * differences (through `via`), "none" found nothing to change.
 */
export type ApplyResult =
  | { kind: "replace"; script: string; via: "nft" }
  | { kind: "replace"; bytes: number; via: "netlink" }
  | { kind: "delta"; ops: NftOp[]; via: "nft" | "netlink" }
  | { kind: "none" };

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Applies rulesets (IR) to the kernel, each as one nft transaction, and remembers the last
 * one it applied so that the next is a delta from it: elements added and removed, changed
 * chains flushed and refilled, which keeps conntrack state and costs a fraction of a full
 * replace. Both modes go through here: standalone renders its own IR, managed receives it.
 */
export class Applier {
  private last: IrRuleset | null = null;
  /** The IR to put back on a repair: the last one applied, kept even after a failure. */
  private intended: IrRuleset | null = null;
  private readonly queue = new SerialQueue();
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly options: ApplierOptions) {}

  get table(): string {
    return this.options.table;
  }

  /** The IR the kernel holds as far as this agent knows, or null when it does not know. */
  get lastApplied(): IrRuleset | null {
    return this.last;
  }

  /** Called after every successful apply (the drift watcher schedules a check). */
  onApplied(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Runs `task` between applies, never during one (drift checks read the kernel here). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }

  /** Replaces the tables whole with the last IR applied (a drift repair); null when there is none. */
  reapply(): Promise<ApplyResult | null> {
    return this.queue.run(async () => {
      if (this.intended === null) return null;
      this.last = null;
      return this.applyInOrder(this.intended);
    });
  }

  /**
   * Commits `ir`. The first apply, and any after a failure, replaces the agent's tables whole
   * (no `nft --check` first, as for a delta: the transaction is all or nothing already, and
   * at 10,000 farms a check costs as much as the apply). Later ones are deltas; a delta the kernel refuses is
   * retried once as a full replace, which repairs a kernel that drifted from what the agent
   * applied. On any failure the kernel keeps what it had: every commit is one transaction.
   */
  apply(ir: IrRuleset): Promise<ApplyResult> {
    return this.queue.run(() => this.applyInOrder(ir));
  }

  /**
   * apply(ir) with the delta already planned: `ops` take the kernel from `from` to `ir` (core's
   * planFarmChange plans them in O(changed farms)). Used only when `from` is what this applier
   * applied last; otherwise (a failure since, a repair) planned here as apply() does. A delta
   * the kernel refuses is retried as a full replace, as with apply().
   */
  applyPlanned(ir: IrRuleset, plan: { from: IrRuleset; ops: NftOp[] }): Promise<ApplyResult> {
    return this.queue.run(() => this.applyInOrder(ir, this.last === plan.from ? plan.ops : undefined));
  }

  /**
   * apply(ir) for `ir = patchIr(change.from, change.patch)`: checked with checkPatch and planned
   * with core's planPatch, both in O(what the patch touches), when `from` is what this applier
   * applied last; otherwise checked and planned whole, as apply() does.
   */
  applyPatch(ir: IrRuleset, change: { from: IrRuleset; patch: IrPatch }): Promise<ApplyResult> {
    return this.queue.run(() => (this.last === change.from ? this.applyInOrder(ir, undefined, change) : this.applyInOrder(ir)));
  }

  private async applyInOrder(ir: IrRuleset, planned?: NftOp[], change?: { from: IrRuleset; patch: IrPatch }): Promise<ApplyResult> {
    this.assertOwnTables(ir);
    try {
      if (change !== undefined && this.options.checkPatch !== undefined) this.options.checkPatch(change.from, change.patch, ir, this.table);
      else this.options.checkIr?.(ir, this.table);
    } catch (error) {
      throw new IrRefused(message(error));
    }
    if (change !== undefined) planned = planPatch(change.from, change.patch, ir, this.table);
    const from = this.last;
    this.last = null;
    const started = performance.now();
    let result: ApplyResult;
    if (from === null) {
      result = await this.replace(ir);
    } else {
      try {
        result = await this.delta(from, ir, planned);
      } catch (error) {
        this.options.log?.warn({ reason: message(error) }, "delta refused by the kernel; replacing the tables whole");
        result = await this.replace(ir);
      }
    }
    // Not copied: IRs are never edited in place (core freezes the chains it memoizes), and a
    // copy of 10,000 farms costs more than the whole delta.
    this.last = ir;
    this.intended = this.last;
    for (const listener of this.listeners) listener();
    this.options.log?.debug({ ...summary(result), ms: Math.round((performance.now() - started) * 10) / 10 }, "ruleset applied");
    return result;
  }

  private async replace(ir: IrRuleset): Promise<ApplyResult> {
    let counters: CounterValues | undefined;
    if (this.options.readCounters !== undefined && ir.tables.some((t) => (t.counters?.length ?? 0) > 0 || t.maps.some((m) => m.value === "counted"))) {
      counters = await this.options.readCounters(ir).catch((error: unknown) => {
        this.options.log?.warn({ reason: message(error) }, "cannot read the counters before a full replace; they start from zero");
        return undefined;
      });
    }
    const batch = this.options.replacePath?.encode(ir, this.table, counters) ?? null;
    if (batch !== null) {
      try {
        await this.options.replacePath?.send(batch);
        return { kind: "replace", bytes: batch.length, via: "netlink" };
      } catch (error) {
        // A replace is whole whatever the kernel holds, so nft may always try it next: it says
        // in its own words what it refuses, and it applies what an encoding slip would not.
        this.options.log?.warn({ reason: message(error) }, "the netlink batch of the full replace failed; replacing with nft");
      }
    }
    const script = renderReplaceScript(ir, this.table, counters);
    await this.options.driver.apply(script);
    return { kind: "replace", script, via: "nft" };
  }

  /** No `nft --check` first: `nft -f` is all or nothing already, and a check would double the time. */
  private async delta(from: IrRuleset, to: IrRuleset, planned?: NftOp[]): Promise<ApplyResult> {
    const ops = planned ?? planDelta(from, to, this.table);
    if (ops.length === 0) return { kind: "none" };
    if (this.options.fastPath?.apply(ops) === "applied") return { kind: "delta", ops, via: "netlink" };
    await this.options.driver.apply(renderOps(ops));
    return { kind: "delta", ops, via: "nft" };
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

function summary(result: ApplyResult): Record<string, unknown> {
  switch (result.kind) {
    case "replace":
      return { kind: result.kind, bytes: result.via === "nft" ? result.script.length : result.bytes, via: result.via };
    case "delta":
      return { kind: result.kind, ops: result.ops.length, via: result.via };
    case "none":
      return { kind: result.kind };
  }
}

export type FactResolver = (needed: NeededFacts) => Promise<Facts>;

/** Standalone mode: the farm config rendered to the IR, with the host facts dsr farms need. */
export async function renderConfig(config: Config, table: string, resolveFacts: FactResolver): Promise<IrRuleset> {
  const facts = await resolveFacts(neededFacts(config));
  return buildRuleset(config, { table, facts, memo: false });
}
