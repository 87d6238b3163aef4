import { readFile } from "node:fs/promises";
import { checkIr, checkPatchedIr, parseNftlbJson } from "@switchyard/core";
import { Applier, type FactResolver } from "./applier.ts";
import { resolveFacts as hostFacts } from "./facts.ts";
import { nftlbApi, errorBody } from "./http/nftlb-api.ts";
import { serveJson, type JsonServer } from "./http/server.ts";
import type { Logger } from "./log.ts";
import { NftDriver } from "./nft/driver.ts";
import { execRunner, type NftRunner } from "./nft/runner.ts";
import { isManagedPath, managedApi } from "./managed/api.ts";
import { DriftWatcher } from "./drift/watcher.ts";
import { HeapTrimmer } from "./heap.ts";
import { CounterReader } from "./counters.ts";
import { openCounterDumper, type CounterDumper } from "./nft/netlink/counters.ts";
import { openElementCounterDumper, type ElementCounterDumper } from "./nft/netlink/elements.ts";
import { openChainRefiller, type ChainRefiller } from "./nft/netlink/refill.ts";
import { encodeReplace } from "./nft/netlink/replace.ts";
import { openReplaceSender, type ReplaceSender } from "./nft/netlink/replace-send.ts";

import { ManagedAgent, ManagedFarms } from "./managed/managed.ts";
import { StandaloneFarms, type NftlbFarms } from "./standalone.ts";
import { StateDir, type AgentState } from "./state/state-dir.ts";

export const DEFAULT_STATE_DIR = "/var/lib/switchyard-agent";
export const DEFAULT_PORT = 5555;
export const DEFAULT_DRIFT_INTERVAL_SECONDS = 30;

/** The oldest nft whose syntax the renderer's maps and concatenations need. */
const MIN_NFT_VERSION = [0, 9, 4] as const;

export interface DaemonOptions {
  key: string;
  host: string;
  port: number;
  stateDir: string;
  table: string;
  /** nftlb's -c: applied at start when the state dir holds nothing yet. */
  configFile?: string;
  log: Logger;
  runner?: NftRunner;
  resolveFacts?: FactResolver;
  /** Managed mode: the control plane sends rulesets with this node token; the nftlb API only refuses. */
  managed?: ManagedModeOptions;
  /** Seconds between drift checks (0: none); 30 when not given. */
  driftIntervalSeconds?: number;
  /** Put the tables back as soon as a check finds drift. */
  repairDrift?: boolean;
  /** false: every change through nft, no netlink batches (chain refills, full replaces). */
  netlink?: boolean;
}

export interface ManagedModeOptions {
  /** The node token the control plane presents as `Authorization: Bearer`. */
  token: string;
  /** The control plane's URL, named in the nftlb API's refusals; undefined when not given. */
  controlPlane?: string;
}

/** Why the daemon could not start; the message is meant for the operator as it is. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StartupError";
  }
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The standalone agent as a daemon, with an ordered lifecycle:
 * start(): nft usable → state dir → last applied ruleset back in the kernel (or -c FILE) → listen;
 * stop(): stop listening → let the change in progress finish → flush the state writer.
 */
export class Daemon {
  private readonly driver: NftDriver;
  private readonly stateDir: StateDir;
  private readonly applier: Applier;
  private readonly farms: StandaloneFarms;
  private readonly managed: ManagedAgent | null;
  private readonly drift: DriftWatcher;
  private readonly refiller: ChainRefiller | null;
  private readonly replacer: ReplaceSender | null;
  private readonly counters: CounterReader;
  private readonly dumper: CounterDumper | null;
  private readonly elementDumper: ElementCounterDumper | null;
  private readonly heap: HeapTrimmer;
  private server: JsonServer | null = null;
  private starting: Promise<void> | null = null;

  constructor(private readonly options: DaemonOptions) {
    this.driver = new NftDriver(options.runner ?? execRunner());
    this.heap = new HeapTrimmer();
    this.stateDir = new StateDir(options.stateDir);
    this.refiller = options.netlink === false ? null : openChainRefiller();
    this.replacer = options.netlink === false ? null : openReplaceSender();
    this.dumper = options.netlink === false ? null : openCounterDumper();
    this.elementDumper = options.netlink === false ? null : openElementCounterDumper();
    this.counters = new CounterReader({
      driver: this.driver,
      table: options.table,
      dumper: this.dumper,
      elements: this.elementDumper,
      applied: () => this.applier.lastApplied,
      serialize: (task) => this.applier.exclusive(task),
      log: options.log,
    });
    this.applier = new Applier({
      driver: this.driver,
      table: options.table,
      log: options.log,
      // A full replace (start-up, repair, a refused delta) carries the counters' values over.
      readCounters: (ir) => this.counters.values(ir),
      ...(this.refiller !== null ? { fastPath: this.refiller } : {}),
      ...(this.replacer !== null ? { replacePath: { encode: encodeReplace, send: (batch: Buffer) => this.replacer?.send(batch) } } : {}),
      // A managed agent applies rule text it did not write: checked before anything reaches nft.
      ...(options.managed ? { checkIr, checkPatch: checkPatchedIr } : {}),
    });
    this.farms = new StandaloneFarms({
      applier: this.applier,
      stateDir: this.stateDir,
      resolveFacts: options.resolveFacts ?? hostFacts,
      log: options.log,
    });
    this.drift = new DriftWatcher({
      applier: this.applier,
      driver: this.driver,
      log: options.log,
      intervalMs: (options.driftIntervalSeconds ?? DEFAULT_DRIFT_INTERVAL_SECONDS) * 1000,
      autoRepair: options.repairDrift ?? false,
      // A check at 10,000 farms reads and parses a 6 MB listing.
      onChecked: () => this.heap.soon(),
    });
    // An apply leaves its script, its state snapshot and (managed) the request's parsed body behind.
    this.applier.onApplied(() => this.heap.soon());
    this.managed = options.managed
      ? new ManagedAgent({ applier: this.applier, stateDir: this.stateDir, log: options.log, controlPlane: controlPlaneName(options.managed), drift: this.drift })
      : null;
  }

  /** The managed-mode state (null in standalone mode). */
  get managedAgent(): ManagedAgent | null {
    return this.managed;
  }

  get driftWatcher(): DriftWatcher {
    return this.drift;
  }

  /** Where the API listens, once started. */
  get address(): { host: string; port: number } | null {
    return this.server && { host: this.server.host, port: this.server.port };
  }

  start(): Promise<void> {
    this.starting ??= this.startInOrder();
    return this.starting;
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    this.drift.stop();
    await this.server?.close();
    this.server = null;
    await this.farms.idle();
    await this.managed?.idle();
    this.heap.stop();
    this.refiller?.close();
    this.replacer?.close();
    this.dumper?.close();
    this.elementDumper?.close();
    await this.stateDir.close();
  }

  private async startInOrder(): Promise<void> {
    const { log } = this.options;
    await this.checkNft();
    await this.loadState();
    // What the cold apply built and dropped goes back before the agent serves anything.
    this.heap.now();
    const managed = this.options.managed;
    const nftlbFarms: NftlbFarms = managed ? new ManagedFarms(controlPlaneName(managed)) : this.farms;
    const nftlb = nftlbApi({ key: this.options.key, farms: nftlbFarms, log });
    const v1 = this.managed && managed ? managedApi({ token: managed.token, agent: this.managed, log, drift: this.drift, counters: this.counters }) : null;
    try {
      this.server = await serveJson(
        { host: this.options.host, port: this.options.port, log, errorBody },
        v1 === null ? nftlb : (req) => (isManagedPath(req.url) ? v1(req) : nftlb(req)),
      );
    } catch (error) {
      throw new StartupError(reason(error), { cause: error });
    }
    this.drift.start();
    if (this.managed) {
      log.info({ host: this.server.host, port: this.server.port, mode: "managed", revision: this.managed.appliedRevision, controlPlane: managed?.controlPlane }, "listening");
    } else {
      log.info({ host: this.server.host, port: this.server.port, farms: this.farms.store.config.farms.length }, "listening");
    }
  }

  private async checkNft(): Promise<void> {
    let version: string;
    try {
      version = await this.driver.version();
    } catch (error) {
      throw new StartupError(`nft is not usable: ${reason(error)} (is the nftables package installed?)`, { cause: error });
    }
    const found = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
    if (found) {
      const [major, minor, patch] = [Number(found[1]), Number(found[2]), Number(found[3] ?? 0)];
      const [minMajor, minMinor, minPatch] = MIN_NFT_VERSION;
      if ((major - minMajor || minor - minMinor || patch - minPatch) < 0) {
        throw new StartupError(`${version} is too old: the agent needs nft ${MIN_NFT_VERSION.join(".")} or newer`);
      }
    }
    try {
      await this.driver.checkAccess("inet", this.options.table);
    } catch (error) {
      throw new StartupError(`nft may not change the ruleset; the agent needs root or CAP_NET_ADMIN: ${reason(error)}`, { cause: error });
    }
    if (this.managed) this.managed.nftVersion = version;
    this.options.log.info(
      { nft: version, fastPath: this.refiller !== null ? "netlink" : this.options.netlink === false ? "off (--nft-only)" : "unavailable (libnftnl, libmnl or koffi missing)" },
      "nft is usable",
    );
  }

  /** The last applied ruleset goes back before anything is served; else -c FILE; else nothing is touched. */
  private async loadState(): Promise<void> {
    const { log, table, configFile } = this.options;
    let state;
    try {
      await this.stateDir.open();
      state = await this.stateDir.load();
    } catch (error) {
      throw new StartupError(reason(error), { cause: error });
    }
    if (this.managed) return this.restoreManaged(state);
    if (state !== null) {
      if (state.managed !== undefined) {
        log.warn({ revision: state.managed.revision }, "the state dir was written in managed mode: its ruleset is re-applied, but it has no farm config; the first change through the API replaces it");
      }
      if (configFile !== undefined) log.info({ file: configFile, state: this.stateDir.file }, "the state dir holds the last applied config; -c is not loaded");
      try {
        if (state.ir.tables.every((t) => t.name === table)) {
          const ir = await this.farms.compactSaved(state.config, state.ir);
          this.stateDir.adoptIr(state.ir, ir);
          await this.farms.restore(state.config, ir);
        } else {
          const saved = state.ir.tables.map((t) => `${t.family} ${t.name}`).join(", ");
          log.warn({ saved, table }, "the saved ruleset is for other tables; rendering the saved config for this table (the old tables are left as they are)");
          await this.farms.install(state.config);
        }
      } catch (error) {
        throw new StartupError(`cannot re-apply the last applied ruleset from ${this.stateDir.file}: ${reason(error)}`, { cause: error });
      }
      log.info({ state: this.stateDir.file, farms: state.config.farms.length, appliedAt: state.appliedAt }, "last applied ruleset re-applied");
      return;
    }
    if (configFile === undefined) {
      log.info({ state: this.stateDir.file }, "no saved state and no -c: starting with no farms; the kernel is untouched until the first change");
      return;
    }
    try {
      await this.farms.install(parseNftlbJson(await readConfigFile(configFile)));
    } catch (error) {
      throw new StartupError(`${configFile} was not applied:\n${reason(error).replace(/^/gm, "  ")}`, { cause: error });
    }
    log.info({ file: configFile, farms: this.farms.store.config.farms.length }, "config applied");
  }

  /** Managed mode: the last applied IR (and its revision) back before anything is served. */
  private async restoreManaged(state: AgentState | null): Promise<void> {
    const { log, table } = this.options;
    const managed = this.managed;
    if (managed === null) return;
    if (state === null) {
      log.info({ state: this.stateDir.file }, "no saved state: waiting for the control plane's first ruleset; the kernel is untouched until then");
      return;
    }
    if (!state.ir.tables.every((t) => t.name === table)) {
      const saved = state.ir.tables.map((t) => `${t.family} ${t.name}`).join(", ");
      log.warn({ saved, table }, "the saved ruleset is for other tables; not re-applied (the control plane sends the next one)");
      return;
    }
    try {
      await managed.restore(state);
    } catch (error) {
      throw new StartupError(`cannot re-apply the last applied ruleset from ${this.stateDir.file}: ${reason(error)}`, { cause: error });
    }
    log.info({ state: this.stateDir.file, revision: state.managed?.revision ?? null, appliedAt: state.appliedAt }, "last applied ruleset re-applied");
  }
}

/** How the nftlb API's refusals name the control plane. */
function controlPlaneName(managed: ManagedModeOptions): string {
  return managed.controlPlane ?? "its control plane";
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read it: ${reason(error)}`);
  }
}

export interface RunHooks {
  /** Called once the API listens (the -d child reports to its parent here). */
  onReady?: (address: { host: string; port: number }) => void;
  /** Called with the start-up failure's message before the exit code is returned. */
  onStartFailure?: (message: string) => void;
}

/**
 * Runs the daemon until SIGINT or SIGTERM. Resolves with the exit code: 0 after a clean stop,
 * 1 when it could not start (the reason is logged and passed to onStartFailure).
 */
export async function runDaemon(options: DaemonOptions, hooks: RunHooks = {}): Promise<number> {
  const { log } = options;
  const daemon = new Daemon(options);
  let stopping: Promise<void> | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== null) {
      log.warn({ signal }, "already stopping");
      return;
    }
    log.info({ signal }, "stopping");
    stopping = daemon
      .stop()
      .catch((error: unknown) => log.error({ err: error }, "stop failed"))
      .finally(stopped);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    try {
      await daemon.start();
    } catch (error) {
      const message = error instanceof StartupError ? error.message : `cannot start: ${reason(error)}`;
      log.fatal({ err: error instanceof StartupError ? undefined : error }, message);
      hooks.onStartFailure?.(message);
      return 1;
    }
    const address = daemon.address;
    if (address !== null && stopping === null) hooks.onReady?.(address);
    await done;
    log.info("stopped");
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
