import { createHash } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { OWNED_FAMILIES, type DriftReport, type IrRuleset, type TableFamily } from "@switchyard/core";
import type { Applier } from "../applier.ts";
import type { Logger } from "../log.ts";
import type { NftDriver } from "../nft/driver.ts";
import { compareShapes, shapeOfIr, shapeOfListing } from "./shape.ts";

// Drift: the kernel's copy of the agent's tables no longer matches what the agent applied
// (someone ran nft by hand, another tool flushed the ruleset). A check lists the agent's tables
// (stateless, so that counters do not count as change) and compares them, first by shape with
// the IR, then byte for byte with the listing taken at the first check after the apply.
// Listing 10,000 farms takes about 2 s here, which is why this runs on a timer and not inside
// every apply.

export type { DriftReport } from "@switchyard/core";

export interface DriftWatcherOptions {
  applier: Applier;
  driver: Pick<NftDriver, "listTable">;
  log: Logger;
  /** Milliseconds between checks; 0 checks only on request. */
  intervalMs: number;
  /** Repair at once when a check finds drift. */
  autoRepair: boolean;
  /** A check soon after each apply takes the reference listing before anyone else can change it. */
  settleMs?: number;
  /** Called after each check (the daemon gives the memory a check used back). */
  onChecked?: () => void;
  now?: () => number;
}

const MAX_DIFFERENCES = 20;

/**
 * A reference listing as kept between checks: its digest, which later listings are compared
 * with, and its text deflated (6 MB of text at 10,000 farms, 0.3 MB deflated), read back only
 * to say where a listing that differs differs.
 */
interface KeptListing {
  digest: string;
  deflated: Buffer;
}

const digestOf = (listing: string) => createHash("sha256").update(listing).digest("hex");

function keep(listing: string | null): KeptListing | null {
  return listing === null ? null : { digest: digestOf(listing), deflated: deflateRawSync(listing, { level: 1 }) };
}

export class DriftWatcher {
  private baseline: { ir: IrRuleset; listings: Map<TableFamily, KeptListing | null> } | null = null;
  private report: DriftReport;
  private timer: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: DriftWatcherOptions) {
    this.now = options.now ?? Date.now;
    this.report = { drifted: null, since: null, checkedAt: null, differences: [], checks: 0, repairs: 0, autoRepair: options.autoRepair };
  }

  start(): void {
    this.stopped = false;
    this.options.applier.onApplied(() => this.soon());
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => void this.checkLogged(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.settle !== null) clearTimeout(this.settle);
    this.timer = this.settle = null;
  }

  get state(): DriftReport {
    return { ...this.report, differences: [...this.report.differences] };
  }

  /** Compares the kernel with the last applied IR; between applies, never during one. */
  async check(): Promise<DriftReport> {
    await this.options.applier.exclusive(() => this.compare()).finally(() => this.options.onChecked?.());
    if (this.report.drifted === true && this.options.autoRepair) return this.repair();
    return this.state;
  }

  /** Puts the last applied IR back whole (a full replace), then checks again. */
  async repair(): Promise<DriftReport> {
    const { applier, log } = this.options;
    log.warn({ differences: this.report.differences }, "repairing drift: replacing the agent's tables with the last applied ruleset");
    if ((await applier.reapply()) !== null) this.report.repairs++;
    await applier.exclusive(() => this.compare());
    return this.state;
  }

  private soon(): void {
    if (this.stopped || this.options.intervalMs === 0) return;
    if (this.settle !== null) clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.settle = null;
      void this.checkLogged();
    }, this.options.settleMs ?? 1_000);
    this.settle.unref();
  }

  private async checkLogged(): Promise<void> {
    if (this.stopped) return;
    await this.check().catch((error: unknown) => this.options.log.error({ err: error }, "drift check failed"));
  }

  private async compare(): Promise<void> {
    const { applier, driver, log } = this.options;
    const expected = applier.lastApplied;
    if (expected === null) return;
    const listings = new Map<TableFamily, string | null>();
    const differences: string[] = [];
    for (const family of OWNED_FAMILIES) {
      const listing = await driver.listTable(family, applier.table, { stateless: true });
      listings.set(family, listing);
      const table = expected.tables.find((t) => t.family === family);
      const where = `table ${family} ${applier.table}`;
      if (table === undefined) {
        if (listing !== null) differences.push(`${where} exists but the agent applied none`);
      } else if (listing === null) {
        differences.push(`${where} is missing`);
      } else {
        differences.push(...compareShapes(shapeOfIr(table), shapeOfListing(listing), where));
      }
    }
    if (differences.length === 0) {
      if (this.baseline?.ir !== expected) {
        this.baseline = { ir: expected, listings: new Map([...listings].map(([family, listing]) => [family, keep(listing)])) };
      } else {
        for (const [family, listing] of listings) {
          const kept = this.baseline.listings.get(family) ?? null;
          if (kept === null ? listing !== null : listing === null || digestOf(listing) !== kept.digest) {
            const before = kept === null ? "" : inflateRawSync(kept.deflated).toString("utf8");
            differences.push(`table ${family} ${applier.table}: rules changed since the agent applied them (${firstDifference(before, listing ?? "")})`);
          }
        }
      }
    }
    const at = new Date(this.now()).toISOString();
    const drifted = differences.length > 0;
    if (drifted && this.report.drifted !== true) log.warn({ differences: differences.slice(0, MAX_DIFFERENCES) }, "drift: the kernel differs from the last applied ruleset");
    if (!drifted && this.report.drifted === true) log.info("drift gone");
    this.report = {
      ...this.report,
      drifted,
      since: drifted ? (this.report.drifted === true ? this.report.since : at) : null,
      checkedAt: at,
      differences: differences.slice(0, MAX_DIFFERENCES),
      checks: this.report.checks + 1,
    };
  }
}

function firstDifference(want: string, got: string): string {
  const a = want.split("\n");
  const b = got.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: expected ${JSON.stringify((a[i] ?? "").trim())}, found ${JSON.stringify((b[i] ?? "").trim())}`;
  }
  return "same lines";
}
