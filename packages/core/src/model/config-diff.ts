import { farmToNftlb, type NftlbBackend, type NftlbFarm } from "../nftlb/codec.ts";
import type { Config, Farm } from "./farm.ts";

// What changed between two configs, as an operator reads a revision diff: farms added and
// removed, and for a farm in both, each attribute that changed and each backend added,
// removed or changed (attribute by attribute). Values are compared in nftlb's string form, so
// that a diff reads like the config a user writes. Pure.

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

export interface BackendDiff {
  name: string;
  change: "added" | "removed" | "changed";
  fields: FieldChange[];
}

export interface FarmDiff {
  name: string;
  change: "added" | "removed" | "changed";
  fields: FieldChange[];
  backends: BackendDiff[];
}

export interface ConfigDiff {
  farms: FarmDiff[];
}

type Flat = Record<string, string>;

function attributes(entity: NftlbFarm | NftlbBackend): Flat {
  const out: Flat = {};
  for (const [key, value] of Object.entries(entity)) if (key !== "backends" && typeof value === "string") out[key] = value;
  return out;
}

function fieldChanges(before: Flat, after: Flat): FieldChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== "name");
  return keys.filter((k) => before[k] !== after[k]).map((k) => ({ field: k, before: before[k] ?? "", after: after[k] ?? "" }));
}

const backendsOf = (farm: NftlbFarm): NftlbBackend[] => (Array.isArray(farm.backends) ? farm.backends : []);

function diffBackends(before: NftlbFarm, after: NftlbFarm): BackendDiff[] {
  const old = new Map(backendsOf(before).map((b) => [b.name ?? "", b]));
  const now = new Map(backendsOf(after).map((b) => [b.name ?? "", b]));
  const out: BackendDiff[] = [];
  for (const [name, b] of now) {
    const was = old.get(name);
    if (was === undefined) out.push({ name, change: "added", fields: fieldChanges({}, attributes(b)) });
    else {
      const fields = fieldChanges(attributes(was), attributes(b));
      if (fields.length > 0) out.push({ name, change: "changed", fields });
    }
  }
  for (const [name, b] of old) if (!now.has(name)) out.push({ name, change: "removed", fields: fieldChanges(attributes(b), {}) });
  return out;
}

/** Farm by farm, then backend by backend: what `after` changes in `before`. */
export function diffConfigs(before: Config, after: Config): ConfigDiff {
  const old = new Map<string, Farm>(before.farms.map((f) => [f.name, f]));
  const now = new Map<string, Farm>(after.farms.map((f) => [f.name, f]));
  const farms: FarmDiff[] = [];
  for (const [name, farm] of now) {
    const was = old.get(name);
    // Unchanged farms are the same objects (configs are never edited in place): at 10,000 farms
    // converting each of them to nftlb's form cost more than the rest of a change's commit.
    if (was === farm) continue;
    const a = farmToNftlb(farm);
    if (was === undefined) {
      farms.push({ name, change: "added", fields: fieldChanges({}, attributes(a)), backends: diffBackends({ name }, a) });
      continue;
    }
    const b = farmToNftlb(was);
    const fields = fieldChanges(attributes(b), attributes(a));
    const backends = diffBackends(b, a);
    if (fields.length > 0 || backends.length > 0) farms.push({ name, change: "changed", fields, backends });
  }
  for (const [name, farm] of old) {
    if (!now.has(name)) {
      const b = farmToNftlb(farm);
      farms.push({ name, change: "removed", fields: fieldChanges(attributes(b), {}), backends: diffBackends(b, { name }) });
    }
  }
  return { farms };
}
