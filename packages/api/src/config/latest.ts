import { toNftlb, type Config, type IrRuleset, type NftlbConfig } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { nodeIr, type NodeRenderInput } from "../deploy/render.ts";
import { known, remember } from "./cache.ts";
import { configOfStored, readRevisionNftlb } from "./revision-store.ts";
import { summarizeFarms, type FarmSummary } from "./farm-summaries.ts";

// The latest revision's config, kept in memory per database until the latest revision number
// changes. Parsing it into the model costs 1-2.5 s at 10,000 farms (core's schemas check every
// farm), and the farms page asks for it on every keystroke: its summaries come from the stored
// form, which needs only the revision's keyframe and deltas. A revision never changes once
// written, so its number is a complete cache key, and one cheap query per request tells
// whether the copy is still good.
// The parsed config is the one config/cache.ts holds for the change path and the deployer (the
// same farm objects, so that the renderer reuses its work), whichever of them parsed it first.

export class LatestConfig {
  #nftlb: NftlbConfig | undefined;
  #config: Config | undefined;
  #summaries: FarmSummary[] | undefined;
  #sorted = new Map<string, FarmSummary[]>();
  #rendered = new Map<string, IrRuleset>();

  constructor(
    /** 0 before the first revision (the empty config). */
    readonly revision: number,
    /** The config as the revision stores it (nftlb's form), until the model is parsed from it. */
    private stored: NftlbConfig | null,
    private readonly db: Database,
    config?: Config,
  ) {
    this.#config = config;
  }

  /** The config in nftlb's form, as the revision stores it (every value a string, defaults spelled out). */
  get nftlb(): NftlbConfig {
    if (this.#nftlb === undefined) {
      this.#nftlb = this.stored ?? (this.#config !== undefined ? toNftlb(this.#config) : { farms: [] });
    }
    return this.#nftlb;
  }

  /** The parsed model (core's schemas run once per revision, not per request). */
  get config(): Config {
    if (this.#config === undefined) {
      this.#config = this.stored === null ? { farms: [] } : configOfStored(this.revision, this.stored);
      remember(this.db, this.revision, this.#config);
      void this.nftlb;
      this.stored = null;
    }
    return this.#config;
  }

  /** One row per farm, in the order farms were created. */
  get summaries(): FarmSummary[] {
    this.#summaries ??= summarizeFarms(this.nftlb.farms);
    return this.#summaries;
  }

  /** The summaries in an order, sorted once per revision and order. */
  sorted(order: string, sort: (rows: FarmSummary[]) => FarmSummary[]): FarmSummary[] {
    let rows = this.#sorted.get(order);
    if (rows === undefined) this.#sorted.set(order, (rows = sort([...this.summaries])));
    return rows;
  }

  /** A node's IR of this config (by the node's labels and facts as stored); a few kept, the fleet's nodes mostly share them. */
  ir(node: NodeRenderInput): IrRuleset {
    const key = `${node.labels}\n${node.facts ?? ""}`;
    let ir = this.#rendered.get(key);
    if (ir === undefined) {
      ir = nodeIr(this.config, node);
      if (this.#rendered.size >= 4) this.#rendered.clear();
      this.#rendered.set(key, ir);
    }
    return ir;
  }
}

const cache = new WeakMap<Database, Promise<LatestConfig>>();

export async function latestRevision(db: Database): Promise<number> {
  return (await db.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } }))?.number ?? 0;
}

/** The latest revision's config: from memory while no revision came after it. */
export async function latestConfig(db: Database): Promise<LatestConfig> {
  const revision = await latestRevision(db);
  const cached = cache.get(db);
  if (cached !== undefined) {
    const entry = await cached.catch(() => null);
    if (entry !== null && entry.revision === revision) return entry;
  }
  const loading = (async () => {
    if (revision === 0) return new LatestConfig(0, null, db);
    const config = known(db, revision);
    if (config !== undefined) return new LatestConfig(revision, null, db, config);
    const stored = await readRevisionNftlb(db, revision);
    if (stored === null) throw new Error(`revision ${revision} disappeared while it was being read`);
    return new LatestConfig(revision, stored, db);
  })();
  // Concurrent requests of one revision share one read; a newer revision replaces it.
  const current = cache.get(db);
  if (current === cached) cache.set(db, loading);
  return loading;
}
