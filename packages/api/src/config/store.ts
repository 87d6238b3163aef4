import {
  canonicalJson,
  farmToNftlb,
  safeParseConfig,
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
  // Two flat reads joined here: Prisma's `include` asks for the backends of every farm with one
  // bound parameter per farm id, which SQLite refuses beyond its limit (a few thousand farms).
  const [rows, backendRows] = await Promise.all([
    tx.farm.findMany({ orderBy: { id: "asc" }, select: { id: true, config: true } }),
    tx.backend.findMany({ orderBy: [{ farmId: "asc" }, { position: "asc" }], select: { farmId: true, config: true } }),
  ]);
  const backendsOf = new Map<number, object[]>();
  for (const b of backendRows) {
    const list = backendsOf.get(b.farmId);
    const backend = JSON.parse(b.config) as object;
    if (list === undefined) backendsOf.set(b.farmId, [backend]);
    else list.push(backend);
  }
  const farms = rows.map((row) => ({ ...(JSON.parse(row.config) as object), backends: backendsOf.get(row.id) ?? [] }));
  const parsed = safeParseConfig({ farms });
  // The database only ever receives configs that passed this same check.
  if (!parsed.ok) throw new Error(`the stored config is invalid: ${parsed.issues.map((i) => `${i.farm ?? ""} ${i.field}: ${i.message}`).join("; ")}`);
  return parsed.config;
}

/**
 * A farm's canonical JSON in nftlb's form, kept per farm object: configs are never edited in
 * place, and a change gives new objects to the farms it changes only, so the snapshot of a
 * revision costs the changed farms plus a concatenation, not 10,000 farms serialized again.
 */
const farmJson = new WeakMap<Farm, string>();
export function farmCanonicalJson(farm: Farm): string {
  let json = farmJson.get(farm);
  if (json === undefined) {
    json = canonicalJson(farmToNftlb(farm));
    farmJson.set(farm, json);
  }
  return json;
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
