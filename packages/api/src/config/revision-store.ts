import { createHash } from "node:crypto";
import { canonicalJson, safeParseConfig, type Config, type Farm, type NftlbConfig, type NftlbFarm } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { farmCanonicalJson, type Tx } from "./store.ts";

// How a revision keeps its config. A revision's config is the whole desired config, and at
// 10,000 farms its canonical JSON is about 5.6 MB: stored whole with every revision, a toggle
// storm wrote megabytes per toggle and the file grew by gigabytes a thousand changes later. So
// most revisions keep a delta from their parent (the farms it sets, whole, by name; the names
// it removes; the farm order, only when it is not the one the delta implies). A revision keeps
// the whole snapshot instead (a keyframe) when it is the first, or when the deltas since the last
// keyframe, its own included, would hold more than half a snapshot's bytes, or be MAX_CHAIN of
// them: storage stays within 1.5 snapshots plus a few hundred bytes a toggle per keyframe, and
// a read parses one snapshot and at most MAX_CHAIN deltas that together weigh less than half of
// one. A revision's config is its keyframe with the deltas after it applied, checked against the
// hash recorded when it was committed: a chain that does not give it back is an error, never a
// silently different config.

/** The most deltas between a revision and its keyframe. */
export const MAX_CHAIN = 255;

/** What the deltas since the last keyframe before revision `number` weigh (0 when there is none). */
export interface ChainSoFar {
  deltas: number;
  bytes: number;
}

/** How many deltas, and how many bytes of them, come after the last keyframe up to revision `number`. */
export async function chainBefore(db: Pick<Tx, "$queryRawUnsafe">, number: number): Promise<ChainSoFar> {
  const rows = await db.$queryRawUnsafe<{ number: number | bigint; bytes: number | bigint | null }[]>(
    "SELECT number, LENGTH(delta) AS bytes FROM Revision WHERE number <= ? AND number > ? ORDER BY number DESC",
    number,
    number - MAX_CHAIN - 1,
  );
  let deltas = 0;
  let bytes = 0;
  for (const row of rows) {
    if (row.bytes === null) break;
    deltas += 1;
    bytes += Number(row.bytes);
  }
  return { deltas, bytes };
}

type StoredFarm = NftlbFarm & { name: string };

/** A delta as stored (JSON): what the revision changes in its parent `base`. */
interface StoredDelta {
  base: number;
  /** Farms added or changed, whole, in nftlb's form. */
  set: StoredFarm[];
  removed: string[];
  /** Every farm's name in order, when the order is not base's (removed dropped, new ones last). */
  order?: string[];
}

/** sha256 of the config's canonical JSON (what a snapshot holds), without joining its text. */
export function configHash(config: Config): string {
  return hashOf(config.farms.map(farmCanonicalJson));
}

function hashOf(farmTexts: readonly string[]): string {
  const hash = createHash("sha256").update('{"farms":[');
  farmTexts.forEach((text, i) => hash.update(i === 0 ? text : `,${text}`));
  return hash.update("]}").digest("hex");
}

/** The order a delta implies: the parent's, without the farms removed, then new farms as they come. */
function impliedOrder(parent: readonly string[], removed: ReadonlySet<string>, next: readonly string[]): string[] {
  const had = new Set(parent);
  return [...parent.filter((name) => !removed.has(name)), ...next.filter((name) => !had.has(name))];
}

const sameOrder = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((name, i) => name === b[i]);

/**
 * The columns of revision `number` whose config is `next`: the delta from its parent (revision
 * number - 1, whose config is `current`, with `chain` the deltas since its keyframe), or the
 * whole snapshot on a keyframe.
 */
export function revisionColumns(number: number, current: Config | null, next: Config, chain: ChainSoFar): { snapshot: string | null; delta: string | null; hash: string } {
  const texts = next.farms.map(farmCanonicalJson);
  const hash = hashOf(texts);
  const keyframe = () => ({ snapshot: `{"farms":[${texts.join(",")}]}`, delta: null, hash });
  if (current === null || number === 1 || chain.deltas >= MAX_CHAIN) return keyframe();
  const before = new Map<string, Farm>(current.farms.map((f) => [f.name, f]));
  const set: string[] = [];
  for (const farm of next.farms) {
    const was = before.get(farm.name);
    // Unchanged farms are the same objects (configs are never edited in place); a farm given
    // back equal but as a new object costs a comparison of its text.
    if (was !== farm && (was === undefined || farmCanonicalJson(was) !== farmCanonicalJson(farm))) set.push(farmCanonicalJson(farm));
  }
  const names = next.farms.map((f) => f.name);
  const kept = new Set(names);
  const removed = current.farms.map((f) => f.name).filter((name) => !kept.has(name));
  const parentOrder = current.farms.map((f) => f.name);
  const order = sameOrder(impliedOrder(parentOrder, new Set(removed), names), names) ? "" : `,"order":${JSON.stringify(names)}`;
  const delta = `{"base":${number - 1},"set":[${set.join(",")}],"removed":${JSON.stringify(removed)}${order}}`;
  // A snapshot's length: its farms' texts, their commas and the 12 characters around them.
  const snapshotBytes = texts.reduce((sum, text) => sum + text.length + 1, 12);
  if (chain.bytes + delta.length > snapshotBytes / 2) return keyframe();
  return { snapshot: null, delta, hash };
}

type Reader = Pick<Tx, "revision"> | Pick<Database, "revision">;

export class StoredRevisionError extends Error {}

/** The stored form of revision `number`'s config (nftlb's, as its canonical JSON holds it), checked against its hash; null when there is no such revision. */
export async function readRevisionNftlb(db: Reader, number: number): Promise<NftlbConfig | null> {
  if (number === 0) return { farms: [] };
  // The deltas back to the keyframe are within MAX_CHAIN revisions: one read for them all
  // (together they weigh less than half a snapshot; a keyframe's, and an old revision's, are null).
  const window = await db.revision.findMany({
    where: { number: { lte: number, gt: number - MAX_CHAIN - 1 } },
    select: { number: true, hash: true, delta: true },
  });
  const rows = new Map(window.map((r) => [r.number, r]));
  const target = rows.get(number);
  if (target === undefined) return null;
  const deltas: StoredDelta[] = [];
  let at = number;
  for (;;) {
    const row = rows.get(at) ?? (await db.revision.findUnique({ where: { number: at }, select: { number: true, hash: true, delta: true } }));
    if (row === null) throw new StoredRevisionError(`revision ${number}: its delta chain names revision ${at}, which does not exist`);
    if (row.delta === null) break;
    const delta = JSON.parse(row.delta) as StoredDelta;
    deltas.push(delta);
    at = delta.base;
  }
  const keyframe = await db.revision.findUnique({ where: { number: at }, select: { snapshot: true } });
  if (keyframe?.snapshot == null) throw new StoredRevisionError(`revision ${number}: revision ${at} keeps neither a snapshot nor a delta`);
  const farms = new Map<string, StoredFarm>();
  for (const farm of (JSON.parse(keyframe.snapshot) as { farms: StoredFarm[] }).farms) farms.set(farm.name, farm);
  let order = [...farms.keys()];
  for (const delta of deltas.reverse()) {
    const removed = new Set(delta.removed);
    const next = delta.order ?? impliedOrder(order, removed, delta.set.map((f) => f.name));
    for (const name of removed) farms.delete(name);
    for (const farm of delta.set) farms.set(farm.name, farm);
    order = next;
  }
  const config = { farms: order.map((name) => farms.get(name) ?? missing(number, name)) };
  if (hashOf(config.farms.map((farm) => canonicalJson(farm))) !== target.hash) {
    throw new StoredRevisionError(`revision ${number}: its snapshot and deltas do not give back the config it recorded (hash ${target.hash})`);
  }
  return config;
}

function missing(number: number, name: string): never {
  throw new StoredRevisionError(`revision ${number}: its farm order names ${name}, which no snapshot or delta holds`);
}

/** The config of revision `number` (0: the empty config before the first); null when there is no such revision. */
export async function readRevisionConfig(db: Reader, number: number): Promise<Config | null> {
  const stored = await readRevisionNftlb(db, number);
  return stored === null ? null : configOfStored(number, stored);
}

/** The model of a revision's stored config (core's schemas; it passed them when it was committed). */
export function configOfStored(number: number, stored: NftlbConfig): Config {
  const parsed = safeParseConfig(stored);
  if (!parsed.ok) throw new StoredRevisionError(`revision ${number}: the stored config is invalid: ${parsed.issues.map((i) => `${i.farm ?? ""} ${i.field}: ${i.message}`).join("; ")}`);
  return parsed.config;
}
