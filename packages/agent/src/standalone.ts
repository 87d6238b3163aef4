import { ConfigError, formatIssue, toNftlb, type Config, type IrRuleset, type NftlbConfig } from "@switchyard/core";
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

  /** Start-up: the state dir's last applied ruleset goes back into the kernel as it was. */
  async restore(config: Config, ir: IrRuleset): Promise<void> {
    await this.queue.run(async () => {
      await this.options.applier.apply(ir);
      this.store.commit(config);
      this.appliedIr = ir;
    });
  }

  /** Start-up with -c FILE (or any whole config): render, apply, save; throws on failure. */
  install(config: Config): Promise<void> {
    return this.queue.run(() => this.applyAndSave(config));
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
        await this.applyAndSave(proposal.config);
      } catch (error) {
        const outcome = failure(error);
        this.options.log.warn({ change: what, ...(outcome.ok ? {} : { status: outcome.status, reason: outcome.message }) }, "change failed");
        return outcome;
      }
      this.options.log.info({ change: what, farms: proposal.config.farms.length }, "change applied");
      return { ok: true } as const;
    });
  }

  private async applyAndSave(config: Config): Promise<void> {
    const { applier, stateDir, resolveFacts, log } = this.options;
    const ir = await renderConfig(config, applier.table, resolveFacts);
    await applier.apply(ir);
    try {
      await stateDir.save({ config, ir, appliedAt: new Date().toISOString() });
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
  }
}
