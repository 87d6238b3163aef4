import {
  buildRuleset,
  ConfigError,
  diffIr,
  farmNamed,
  formatIssue,
  indexedCrossFarmIssues,
  neededFacts,
  planFarmChange,
  prepareFarmChange,
  toNftlb,
  type Config,
  type Facts,
  type IrRuleset,
  type NeededFacts,
  type NftlbConfig,
} from "@switchyard/core";
import { IrRefused, renderConfig, type Applier, type FactResolver } from "./applier.ts";
import type { Logger } from "./log.ts";
import { NftError } from "./nft/driver.ts";
import { SerialQueue } from "./serial-queue.ts";
import { ConfigStore, type Change } from "./state/config-store.ts";
import type { StateDir } from "./state/state-dir.ts";

/** The answer to a change through the nftlb API. */
export type Outcome = { ok: true } | { ok: false; status: 400 | 404 | 409 | 500; message: string };

/**
 * What the nftlb-compatible API needs from the mode the agent runs in. Standalone mode
 * (below) owns the farm config; managed mode will answer reads from the control plane's
 * config and refuse changes with 409.
 */
export interface NftlbFarms {
  list(): NftlbConfig;
  merge(fragment: unknown): Promise<Outcome>;
  removeFarm(name: string): Promise<Outcome>;
  removeBackend(farm: string, backend: string): Promise<Outcome>;
}

export interface StandaloneOptions {
  applier: Applier;
  stateDir: Pick<StateDir, "save" | "file">;
  resolveFacts: FactResolver;
  log: Logger;
}

/** A change that failed after validation, mapped to the API's answer. */
function failure(error: unknown): Outcome {
  if (error instanceof ConfigError) return { ok: false, status: 400, message: error.issues.map(formatIssue).join("; ") };
  if (error instanceof IrRefused) return { ok: false, status: 500, message: error.message };
  if (error instanceof NftError) return { ok: false, status: 500, message: `nft refused the change; nothing was changed: ${error.message}` };
  return { ok: false, status: 500, message: (error as Error).message ?? String(error) };
}

/**
 * Standalone mode: the agent owns the farm config. Every change is validated as a whole new
 * config, rendered, checked and applied with nft, saved to the state dir, and only then
 * becomes the current config. Changes run one at a time.
 */
export class StandaloneFarms implements NftlbFarms {
  readonly store = new ConfigStore();
  private readonly queue = new SerialQueue();
  /** The IR of the current config as applied, null until something was applied. */
  private appliedIr: IrRuleset | null = null;
  /** The host facts `appliedIr` was built with, and which it needed; null when not known (restored from the state dir). */
  private appliedFacts: string | null = null;
  private appliedNeeded: NeededFacts | null = null;
  /** How the last change was planned: through the lane for a few farms, or in full (and why). */
  lastPlan: { lane: true } | { lane: false; reason: string } | null = null;

  constructor(private readonly options: StandaloneOptions) {}

  list(): NftlbConfig {
    return toNftlb(this.store.config);
  }

  merge(fragment: unknown): Promise<Outcome> {
    return this.change("merge", () => this.store.merge(fragment));
  }

  removeFarm(name: string): Promise<Outcome> {
    return this.change(`delete farm ${name}`, () => this.store.removeFarm(name));
  }

  removeBackend(farm: string, backend: string): Promise<Outcome> {
    return this.change(`delete backend ${farm}/${backend}`, () => this.store.removeBackend(farm, backend));
  }

  /**
   * The build of a saved config when it is the saved IR itself, else the saved IR. The two are
   * the same ruleset, but the build shares its texts (a rule many farms have is one string) and
   * an IR read from disk holds a string for every rule and element: at 10,000 farms the agent
   * restarted on its state dir held about 6 MB more than the one started with -c. A saved IR that the
   * build does not give again (another version's rendering, host facts that changed, a build
   * that fails) is kept as it is: what is re-applied is what was applied.
   */
  async compactSaved(config: Config, ir: IrRuleset): Promise<IrRuleset> {
    try {
      const built = buildRuleset(config, { table: this.options.applier.table, facts: await this.options.resolveFacts(neededFacts(config)), memo: buildMemo(config) });
      const diff = diffIr(ir, built);
      return diff.tables.length === 0 && diff.order === undefined ? built : ir;
    } catch {
      return ir;
    }
  }

  /** Start-up: the state dir's last applied ruleset goes back into the kernel as it was. */
  async restore(config: Config, ir: IrRuleset): Promise<void> {
    await this.queue.run(async () => {
      await this.options.applier.apply(ir);
      this.store.commit(config);
      this.appliedIr = ir;
      this.prepare();
    });
  }

  /** Start-up with -c FILE (or any whole config): render, apply, save; throws on failure. */
  install(config: Config): Promise<void> {
    return this.queue.run(async () => {
      await this.applyAndSave(config);
      this.prepare();
    });
  }

  /** core's lane for a few farms; a failure of the lane itself (a bug) falls back to the full path rather than refusing the change. */
  private planLane(ir: IrRuleset, from: Config, to: Config, changed: readonly string[], facts: Facts): ReturnType<typeof planFarmChange> {
    try {
      return planFarmChange(ir, from, to, changed, { table: this.options.applier.table, facts });
    } catch (error) {
      this.options.log.warn({ err: error }, "the lane for a few farms failed; building the ruleset in full");
      return { ok: false, reason: `the lane failed: ${(error as Error).message}` };
    }
  }

  /** Builds the indexes the lane for a few farms looks things up in (O(n) once at start, not on the first change). */
  private prepare(): void {
    indexedCrossFarmIssues(this.store.config);
    if (this.appliedIr !== null) prepareFarmChange(this.appliedIr, this.store.config);
  }

  /** Waits for the change in progress and every queued one. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private change(what: string, propose: () => Change): Promise<Outcome> {
    return this.queue.run(async () => {
      // Proposed inside the queue, so that it builds on every change committed before it.
      const proposal = propose();
      if (!proposal.ok) {
        this.options.log.info({ change: what, status: proposal.status, reason: proposal.message }, "change refused");
        return proposal;
      }
      try {
        await this.applyAndSave(proposal.config, proposal.changed);
      } catch (error) {
        const outcome = failure(error);
        this.options.log.warn({ change: what, ...(outcome.ok ? {} : { status: outcome.status, reason: outcome.message }) }, "change failed");
        return outcome;
      }
      const plan = this.lastPlan;
      const planned = plan === null || plan.lane ? { lane: true } : { lane: false, fullBecause: plan.reason };
      this.options.log.info({ change: what, farms: proposal.config.farms.length, ...planned }, "change applied");
      return { ok: true } as const;
    });
  }

  /**
   * Renders `config`, applies it and saves it. With `changed` (the farms a change touched),
   * through core's lane for a few farms when it applies: the IR, the nft ops and the journal's
   * IR patch patched from the applied ones in O(changed farms), not rebuilt, re-planned and
   * re-diffed over every farm. The same IR, ops and state either way.
   */
  private async applyAndSave(config: Config, changed?: readonly string[]): Promise<void> {
    const { applier, stateDir, resolveFacts, log } = this.options;
    // The facts a change of a few farms needs are those the applied config needed, unless it
    // touches a dsr farm (found in O(changed farms) instead of going over every farm).
    const needed =
      changed !== undefined && this.appliedNeeded !== null && !touchesDsr(this.store.config, config, changed) ? this.appliedNeeded : neededFacts(config);
    const facts: Facts = await resolveFacts(needed);
    const factsKey = JSON.stringify(facts);
    const before = { config: this.store.config, ir: this.appliedIr };
    // The previous IR's dsr part is kept as it is: right when no farm needs host facts, or
    // the facts are those it was built with.
    const sameFacts = (needed.interfaces.length === 0 && needed.neighbours.length === 0) || factsKey === this.appliedFacts;
    const lane =
      changed === undefined || before.ir === null
        ? { ok: false as const, reason: before.ir === null ? "nothing applied yet" : "a whole config" }
        : !sameFacts
          ? { ok: false as const, reason: "host facts changed" }
          : this.planLane(before.ir, before.config, config, changed, facts);
    this.lastPlan = lane.ok ? { lane: true } : { lane: false, reason: lane.reason };
    const ir = lane.ok ? lane.ir : buildRuleset(config, { table: applier.table, facts, memo: buildMemo(config) });
    if (lane.ok && before.ir !== null) await applier.applyPlanned(ir, { from: before.ir, ops: lane.ops });
    else await applier.apply(ir);
    try {
      const state = { config, ir, appliedAt: new Date().toISOString() };
      if (lane.ok && before.ir !== null && changed !== undefined) {
        await stateDir.save(state, { from: { config: before.config, ir: before.ir }, changed, ir: lane.patch });
      } else await stateDir.save(state);
    } catch (error) {
      // The kernel has the new rules but the state dir does not: put the previous rules back,
      // so that what answers as refused has changed nothing.
      const previous = this.appliedIr ?? (await renderConfig(this.store.config, applier.table, resolveFacts).catch(() => null));
      if (previous !== null) {
        await applier.apply(previous).catch((rollback: unknown) => log.error({ err: rollback }, "rollback after a failed save failed"));
      }
      throw new Error(`cannot save the state to ${stateDir.file}: ${(error as Error).message}; the change was rolled back`);
    }
    this.store.commit(config);
    this.appliedIr = ir;
    this.appliedFacts = factsKey;
    this.appliedNeeded = needed;
  }
}

/**
 * Whether the agent's builds of `config` keep build's memo (BuildOptions.memo). Changes of a
 * config without dsr farms take core's lane, and the whole IR is built only at start: the memo
 * would only hold 4.9 MB more at 10,000 farms. A change that touches a dsr farm is built whole,
 * and the memo makes that 33 ms at 10,000 farms instead of 190 ms (build and plan, in-process).
 */
function buildMemo(config: Config): boolean {
  return config.farms.some((f) => f.mode === "dsr");
}

/** Whether a farm named in `changed` is a dsr farm before or after the change. */
function touchesDsr(before: Config, after: Config, changed: readonly string[]): boolean {
  // After a removal the farms named are only in `before`, whose index has moved on to `after`:
  // a scan (cheap, and a removal is rare) instead of a rebuild.
  if (after.farms.length < before.farms.length) return before.farms.some((f) => f.mode === "dsr" && changed.includes(f.name));
  // Looked up in `before` first, then in `after`: each config's index answers in turn.
  if (changed.some((name) => farmNamed(before, name)?.mode === "dsr")) return true;
  return changed.some((name) => farmNamed(after, name)?.mode === "dsr");
}
