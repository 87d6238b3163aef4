import {
  canonicalJson,
  farmToNftlb,
  safeParseConfig,
  sha256Hex,
  toNftlb,
  type Config,
  type ConfigDiff,
  type Farm,
  type NftlbFarm,
} from "@switchyard/core";
import type { Prisma } from "@switchyard/db";

// The desired config as the database keeps it: a Farm row per farm (its nftlb attributes as
// canonical JSON, backends aside) and a Backend row per backend (in order). Farms come back in
// the order they were created.

export type Tx = Prisma.TransactionClient;

export async function loadConfig(tx: Tx): Promise<Config> {
  // Backends in a query of their own, not as a relation of the farms: Prisma 7 loads an ordered
  // relation with one bound parameter per farm, which SQLite refuses from about 1,000 farms on.
  const [rows, backendRows] = await Promise.all([
    tx.farm.findMany({ orderBy: { id: "asc" }, select: { id: true, config: true } }),
    tx.backend.findMany({ orderBy: [{ farmId: "asc" }, { position: "asc" }], select: { farmId: true, config: true } }),
  ]);
  const backends = new Map<number, object[]>();
  for (const b of backendRows) {
    let list = backends.get(b.farmId);
    if (list === undefined) backends.set(b.farmId, (list = []));
    list.push(JSON.parse(b.config) as object);
  }
  const farms = rows.map((row) => ({ ...(JSON.parse(row.config) as object), backends: backends.get(row.id) ?? [] }));
  const parsed = safeParseConfig({ farms });
  // The database only ever receives configs that passed this same check.
  if (!parsed.ok) throw new Error(`the stored config is invalid: ${parsed.issues.map((i) => `${i.farm ?? ""} ${i.field}: ${i.message}`).join("; ")}`);
  return parsed.config;
}

/** What a Revision keeps: the whole config in nftlb's form, as canonical JSON, and its hash. */
export function snapshotOf(config: Config): { snapshot: string; hash: string } {
  const snapshot = canonicalJson(toNftlb(config));
  return { snapshot, hash: sha256Hex(snapshot) };
}

export function configOfSnapshot(snapshot: string): Config {
  const parsed = safeParseConfig(JSON.parse(snapshot));
  if (!parsed.ok) throw new Error("a stored revision is invalid");
  return parsed.config;
}

function farmColumns(farm: Farm): { config: string; backends: string[] } {
  const { backends, ...attributes } = farmToNftlb(farm) as NftlbFarm & { backends: object[] };
  return { config: canonicalJson(attributes), backends: backends.map((b) => canonicalJson(b)) };
}

/** Writes the farms `diff` names as they are in `config`, marked as changed by `revision`. */
export async function writeFarms(tx: Tx, config: Config, diff: ConfigDiff, revision: number): Promise<void> {
  const byName = new Map(config.farms.map((f) => [f.name, f]));
  for (const change of diff.farms) {
    if (change.change === "removed") {
      await tx.farm.delete({ where: { name: change.name } });
      continue;
    }
    const farm = byName.get(change.name);
    if (farm === undefined) throw new Error(`writeFarms: farm ${change.name} is not in the new config`);
    const columns = farmColumns(farm);
    const row = await tx.farm.upsert({
      where: { name: farm.name },
      create: { name: farm.name, config: columns.config, updatedRevision: revision },
      update: { config: columns.config, updatedRevision: revision },
    });
    await tx.backend.deleteMany({ where: { farmId: row.id } });
    if (columns.backends.length > 0) {
      await tx.backend.createMany({
        data: columns.backends.map((config, position) => ({ farmId: row.id, name: farm.backends[position]?.name ?? "", config, position })),
      });
    }
  }
}
