import { deepFreeze, patchIr, type Config, type IrPatch, type IrRuleset, type NftlbConfig } from "@switchyard/core";
import { IrRefused, type Applier } from "../applier.ts";
import type { DriftReport, DriftWatcher } from "../drift/watcher.ts";
import { HttpError } from "../http/server.ts";
import type { Logger } from "../log.ts";
import { NftError } from "../nft/driver.ts";
import { SerialQueue } from "../serial-queue.ts";
import type { NftlbFarms, Outcome } from "../standalone.ts";
import type { AgentState, StateDir } from "../state/state-dir.ts";
import { describeIssues, irHash, PatchRulesetSchema, PutRulesetSchema } from "./schema.ts";

// Managed mode: the control plane owns the config and sends rulesets (IR) with a revision
// number, whole (PUT) or as a patch of the one the agent applied (PATCH); the agent applies
// them in revision order, one at a time, and keeps the last applied one in its state dir.
// Every IR the agent holds is deeply frozen: nothing edits it in place, canonicalJson remembers
// its unchanged parts (a patched IR hashes in O(changed parts)), and the guard's record of
// what it checked stays true.

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
  /**
   * The (empty) farm config saved with every ruleset, one object throughout: the state dir
   * journals a patch with its hint only when the hint starts from the config it saved last.
   */
  private config: Config = { farms: [] };
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
      const ir = deepFreeze(state.ir);
      await this.options.applier.apply(ir);
      this.appliedIr = ir;
      this.applied = state.managed === undefined ? null : { ...state.managed, ir };
      // A state written in standalone mode has farms, which the next save drops (as before).
      if (state.config.farms.length === 0) this.config = state.config;
    });
  }

  /** PUT /v1/ruleset. */
  put(body: unknown): Promise<ManagedAnswer> {
    return this.queue.run(() => this.putInOrder(body));
  }

  /** PATCH /v1/ruleset: a patch of the applied ruleset (whose hash must be `baseHash`). */
  patch(body: unknown): Promise<ManagedAnswer> {
    return this.queue.run(() => this.patchInOrder(body));
  }

  /** The revision rules, the same for PUT and PATCH: an answer when `revision` is not to be applied now. */
  private revisionOrder(revision: number, hash: string, force: boolean): ManagedAnswer | null {
    const current = this.applied;
    if (current === null) return null;
    if (revision === current.revision && hash === current.hash) {
      this.options.log.debug({ revision }, "ruleset already applied");
      return { status: 200, body: { applied: revision, changed: false } };
    }
    if (!force && revision === current.revision) {
      return { status: 409, body: { error: `revision ${revision} is already applied with another hash (${current.hash}); send a new revision, or force`, appliedRevision: current.revision } };
    }
    if (!force && revision < current.revision) {
      return { status: 409, body: { error: `revision ${revision} is older than the applied revision ${current.revision}; send force: true to apply it anyway`, appliedRevision: current.revision } };
    }
    return null;
  }

  private async putInOrder(body: unknown): Promise<ManagedAnswer> {
    const parsed = PutRulesetSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: `invalid ruleset request: ${describeIssues(parsed.error)}` } };
    const { revision, hash, force = false } = parsed.data;
    const ir = deepFreeze(parsed.data.ir);
    const actual = irHash(ir);
    if (actual !== hash) {
      return { status: 400, body: { error: `hash mismatch: the ir's canonical JSON hashes to ${actual}, the request says ${hash}` } };
    }
    return this.revisionOrder(revision, hash, force) ?? this.applyAndSave(revision, hash, ir, force, "put", () => this.options.applier.apply(ir));
  }

  private async patchInOrder(body: unknown): Promise<ManagedAnswer> {
    const parsed = PatchRulesetSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: `invalid ruleset patch: ${describeIssues(parsed.error)}` } };
    const { revision, baseHash, hash, force = false } = parsed.data;
    const patch = deepFreeze(parsed.data.patch);
    const order = this.revisionOrder(revision, hash, force);
    if (order !== null) return order;
    const base = this.applied;
    if (base === null || base.hash !== baseHash) {
      const has = base === null ? "no ruleset from the control plane" : `ruleset ${base.hash} (revision ${base.revision})`;
      return {
        status: 409,
        body: {
          error: `base mismatch: the patch is for ruleset ${baseHash}, this agent has ${has}; send the whole ruleset (PUT /v1/ruleset)`,
          appliedRevision: base?.revision ?? null,
          appliedHash: base?.hash ?? null,
        },
      };
    }
    let ir: IrRuleset;
    try {
      ir = deepFreeze(patchIr(base.ir, patch));
    } catch (error) {
      return { status: 400, body: { error: `the patch does not fit ruleset ${baseHash}, which this agent has: ${message(error)}` } };
    }
    const actual = irHash(ir);
    if (actual !== hash) {
      return { status: 400, body: { error: `hash mismatch: the patched ruleset's canonical JSON hashes to ${actual}, the request says ${hash}` } };
    }
    return this.applyAndSave(revision, hash, ir, force, "patch", () => this.options.applier.applyPatch(ir, { from: base.ir, patch }), patch);
  }

  /**
   * Applies `ir` (through `apply`), saves it with its revision (the patch that made it, when
   * there is one, is the journal's line), and answers; a refusal or failure changes nothing.
   */
  private async applyAndSave(
    revision: number,
    hash: string,
    ir: IrRuleset,
    force: boolean,
    via: "put" | "patch",
    apply: () => ReturnType<Applier["apply"]>,
    patch?: IrPatch,
  ): Promise<ManagedAnswer> {
    const { log } = this.options;
    const started = performance.now();
    const from = this.applied?.ir;
    let result;
    try {
      result = await apply();
      await this.save(revision, hash, ir, patch !== undefined && from !== undefined ? { from, patch } : undefined);
    } catch (error) {
      this.lastDurationSeconds = (performance.now() - started) / 1000;
      this.applies.error++;
      const text = message(error);
      this.lastError = { message: text, at: new Date(this.now()).toISOString() };
      const status = error instanceof IrRefused ? 400 : 500;
      log.warn({ revision, via, status, reason: text }, "ruleset refused");
      return { status, body: { error: error instanceof NftError ? `nft refused the ruleset; nothing was changed: ${error.message}` : text } };
    }
    this.lastDurationSeconds = (performance.now() - started) / 1000;
    this.lastApply = { kind: result.kind, via: result.kind === "none" ? null : result.via, ms: Math.round(this.lastDurationSeconds * 10_000) / 10 };
    this.applies.ok++;
    this.lastError = null;
    this.applied = { revision, hash, ir };
    this.appliedIr = ir;
    log.info({ revision, hash, via, forced: force, ms: Math.round(this.lastDurationSeconds * 1000) }, "ruleset applied");
    return { status: 200, body: { applied: revision, changed: true } };
  }

  /** Saves; when the save fails, puts the previous rules back so that a refusal changes nothing. */
  private async save(revision: number, hash: string, ir: IrRuleset, patched?: { from: IrRuleset; patch: IrPatch }): Promise<void> {
    const { stateDir, applier, log } = this.options;
    const state = { config: this.config, ir, appliedAt: new Date(this.now()).toISOString(), managed: { revision, hash } };
    try {
      // A patch is the journal's line as it came (O(its size)), instead of a diff of two whole IRs.
      await (patched === undefined ? stateDir.save(state) : stateDir.save(state, { from: { config: this.config, ir: patched.from }, changed: [], ir: patched.patch }));
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
