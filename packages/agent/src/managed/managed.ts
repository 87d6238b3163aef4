import type { IrRuleset, NftlbConfig } from "@switchyard/core";
import { IrRefused, type Applier } from "../applier.ts";
import type { DriftReport, DriftWatcher } from "../drift/watcher.ts";
import { HttpError } from "../http/server.ts";
import type { Logger } from "../log.ts";
import { NftError } from "../nft/driver.ts";
import { SerialQueue } from "../serial-queue.ts";
import type { NftlbFarms, Outcome } from "../standalone.ts";
import type { AgentState, StateDir } from "../state/state-dir.ts";
import { describeIssues, irHash, PutRulesetSchema } from "./schema.ts";

// Managed mode: the control plane owns the config and sends whole rulesets (IR) with a
// revision number; the agent applies them in revision order, one at a time, and keeps the
// last applied one in its state dir.

export interface ManagedAnswer {
  status: 200 | 400 | 409 | 500;
  body: Record<string, unknown>;
}

export interface ManagedStatus {
  mode: "managed";
  appliedRevision: number | null;
  appliedHash: string | null;
  lastError: { message: string; at: string } | null;
  nftVersion: string;
  uptimeSeconds: number;
  table: string;
  drift: DriftReport | null;
  /** How the last successful apply went: a full replace or a delta, through nft or the netlink fast path. */
  lastApply: { kind: "replace" | "delta" | "none"; via: "nft" | "netlink" | null; ms: number } | null;
}

export interface ManagedOptions {
  applier: Applier;
  stateDir: Pick<StateDir, "save" | "file">;
  log: Logger;
  /** Where the control plane is, as told to nftlb API users; may be a description. */
  controlPlane: string;
  /** Reported in status and metrics when the agent watches for drift. */
  drift?: DriftWatcher;
  now?: () => number;
}

interface Applied {
  revision: number;
  hash: string;
  ir: IrRuleset;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class ManagedAgent {
  private readonly queue = new SerialQueue();
  private readonly now: () => number;
  private readonly startedAt: number;
  private applied: Applied | null = null;
  /** The IR in the kernel when it is not one with a revision (standalone state restored in managed mode). */
  private appliedIr: IrRuleset | null = null;
  private lastError: { message: string; at: string } | null = null;
  private readonly applies = { ok: 0, error: 0 };
  private lastDurationSeconds: number | null = null;
  private lastApply: ManagedStatus["lastApply"] = null;
  nftVersion = "unknown";

  constructor(private readonly options: ManagedOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  get appliedRevision(): number | null {
    return this.applied?.revision ?? null;
  }

  /** Start-up: the state dir's last applied IR back in the kernel, with its revision if it has one. */
  async restore(state: AgentState): Promise<void> {
    await this.queue.run(async () => {
      await this.options.applier.apply(state.ir);
      this.appliedIr = state.ir;
      this.applied = state.managed === undefined ? null : { ...state.managed, ir: state.ir };
    });
  }

  /** PUT /v1/ruleset. */
  put(body: unknown): Promise<ManagedAnswer> {
    return this.queue.run(() => this.putInOrder(body));
  }

  private async putInOrder(body: unknown): Promise<ManagedAnswer> {
    const { log } = this.options;
    const parsed = PutRulesetSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: `invalid ruleset request: ${describeIssues(parsed.error)}` } };
    const { revision, hash, ir, force = false } = parsed.data;
    const actual = irHash(ir);
    if (actual !== hash) {
      return { status: 400, body: { error: `hash mismatch: the ir's canonical JSON hashes to ${actual}, the request says ${hash}` } };
    }
    const current = this.applied;
    if (current !== null) {
      if (revision === current.revision && hash === current.hash) {
        log.debug({ revision }, "ruleset already applied");
        return { status: 200, body: { applied: revision, changed: false } };
      }
      if (!force && revision === current.revision) {
        return { status: 409, body: { error: `revision ${revision} is already applied with another hash (${current.hash}); send a new revision, or force`, appliedRevision: current.revision } };
      }
      if (!force && revision < current.revision) {
        return { status: 409, body: { error: `revision ${revision} is older than the applied revision ${current.revision}; send force: true to apply it anyway`, appliedRevision: current.revision } };
      }
    }
    const started = performance.now();
    let result;
    try {
      result = await this.options.applier.apply(ir);
      await this.save(revision, hash, ir);
    } catch (error) {
      this.lastDurationSeconds = (performance.now() - started) / 1000;
      this.applies.error++;
      const text = message(error);
      this.lastError = { message: text, at: new Date(this.now()).toISOString() };
      const status = error instanceof IrRefused ? 400 : 500;
      log.warn({ revision, status, reason: text }, "ruleset refused");
      return { status, body: { error: error instanceof NftError ? `nft refused the ruleset; nothing was changed: ${error.message}` : text } };
    }
    this.lastDurationSeconds = (performance.now() - started) / 1000;
    this.lastApply = { kind: result.kind, via: result.kind === "none" ? null : result.via, ms: Math.round(this.lastDurationSeconds * 10_000) / 10 };
    this.applies.ok++;
    this.lastError = null;
    this.applied = { revision, hash, ir };
    this.appliedIr = ir;
    log.info({ revision, hash, forced: force, ms: Math.round(this.lastDurationSeconds * 1000) }, "ruleset applied");
    return { status: 200, body: { applied: revision, changed: true } };
  }

  /** Saves; when the save fails, puts the previous rules back so that a refusal changes nothing. */
  private async save(revision: number, hash: string, ir: IrRuleset): Promise<void> {
    const { stateDir, applier, log } = this.options;
    try {
      await stateDir.save({ config: { farms: [] }, ir, appliedAt: new Date(this.now()).toISOString(), managed: { revision, hash } });
    } catch (error) {
      const previous = this.appliedIr ?? { tables: [] };
      await applier.apply(previous).catch((rollback: unknown) => log.error({ err: rollback }, "rollback after a failed save failed"));
      throw new Error(`cannot save the state to ${stateDir.file}: ${message(error)}; the ruleset was rolled back`);
    }
  }

  status(): ManagedStatus {
    return {
      mode: "managed",
      appliedRevision: this.applied?.revision ?? null,
      appliedHash: this.applied?.hash ?? null,
      lastError: this.lastError,
      nftVersion: this.nftVersion,
      uptimeSeconds: Math.floor((this.now() - this.startedAt) / 1000),
      table: this.options.applier.table,
      drift: this.options.drift?.state ?? null,
      lastApply: this.lastApply,
    };
  }

  /** Prometheus text exposition. */
  metrics(): string {
    const lines = [
      "# HELP switchyard_agent_up 1 while the agent runs.",
      "# TYPE switchyard_agent_up gauge",
      "switchyard_agent_up 1",
      "# HELP switchyard_agent_applied_revision The control plane revision in the kernel (0: none).",
      "# TYPE switchyard_agent_applied_revision gauge",
      `switchyard_agent_applied_revision ${this.applied?.revision ?? 0}`,
      "# HELP switchyard_agent_applies_total Rulesets the agent tried to apply, by result.",
      "# TYPE switchyard_agent_applies_total counter",
      `switchyard_agent_applies_total{result="ok"} ${this.applies.ok}`,
      `switchyard_agent_applies_total{result="error"} ${this.applies.error}`,
      "# HELP switchyard_agent_last_apply_duration_seconds How long the last apply took (check and commit).",
      "# TYPE switchyard_agent_last_apply_duration_seconds gauge",
      `switchyard_agent_last_apply_duration_seconds ${this.lastDurationSeconds ?? 0}`,
    ];
    const drift = this.options.drift?.state;
    if (drift !== undefined) {
      lines.push(
        "# HELP switchyard_agent_drift 1 when the kernel's copy of the agent's tables differs from the last applied ruleset (at the last check).",
        "# TYPE switchyard_agent_drift gauge",
        `switchyard_agent_drift ${drift.drifted === true ? 1 : 0}`,
        "# HELP switchyard_agent_drift_checks_total Drift checks run.",
        "# TYPE switchyard_agent_drift_checks_total counter",
        `switchyard_agent_drift_checks_total ${drift.checks}`,
        "# HELP switchyard_agent_drift_repairs_total Times the agent put its tables back after drift.",
        "# TYPE switchyard_agent_drift_repairs_total counter",
        `switchyard_agent_drift_repairs_total ${drift.repairs}`,
      );
    }
    return `${lines.join("\n")}\n`;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }
}

/**
 * The nftlb API of a managed agent. The control plane sends rulesets, not farms, so the agent
 * has no farm config to show: GETs answer 409 pointing at the control plane rather than an
 * empty list that would look like "no farms" while farms are live; changes answer 409 too.
 */
export class ManagedFarms implements NftlbFarms {
  constructor(private readonly controlPlane: string) {}

  private get refusal(): string {
    return `this agent is managed by ${this.controlPlane}; change farms there`;
  }

  list(): NftlbConfig {
    throw new HttpError(409, `this agent is managed by ${this.controlPlane}, which owns the farm config (the agent receives rulesets, not farms); read farms there`);
  }

  private refuse(): Promise<Outcome> {
    return Promise.resolve({ ok: false, status: 409, message: this.refusal });
  }

  merge(): Promise<Outcome> {
    return this.refuse();
  }

  removeFarm(): Promise<Outcome> {
    return this.refuse();
  }

  removeBackend(): Promise<Outcome> {
    return this.refuse();
  }
}
