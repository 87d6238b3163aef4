import { farmToNftlb, safeReplaceFarms, type Config, type NftlbFarm } from "@switchyard/core";
import { TRPCError } from "@trpc/server";
import { invalid, notFound } from "../errors.ts";

// Edits of the desired config, in nftlb's terms (a farm or backend given as nftlb attributes,
// strings or numbers), each checked by core's schemas exactly as the agent checks a config.

type Raw = Record<string, unknown>;

const own = (target: Raw, key: string, value: unknown) => Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

function replaceFarm(current: Config, index: number, raw: Raw): Config {
  const parsed = safeReplaceFarms(current, [{ index, raw }]);
  if (!parsed.ok) throw invalid(parsed.issues);
  return parsed.config;
}

function indexOf(current: Config, name: string): number {
  const index = current.farms.findIndex((f) => f.name === name);
  if (index < 0) throw notFound(`farm "${name}": no such farm`);
  return index;
}

export function createFarm(current: Config, farm: Raw): Config {
  if (typeof farm.name === "string" && current.farms.some((f) => f.name === farm.name)) {
    throw new TRPCError({ code: "CONFLICT", message: `farm "${farm.name}": a farm of that name exists` });
  }
  return replaceFarm(current, current.farms.length, farm);
}

/** Sets the given attributes of a farm (not its backends); the others keep their values. */
export function updateFarm(current: Config, name: string, attributes: Raw): Config {
  const index = indexOf(current, name);
  const raw = farmToNftlb(current.farms[index] as Config["farms"][number]) as unknown as Raw;
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "backends") throw invalid([{ farm: name, field: "backends", message: "change backends one by one (backends.upsert, backends.remove)" }]);
    own(raw, key, value);
  }
  return replaceFarm(current, index, raw);
}

export function removeFarm(current: Config, name: string): Config {
  const index = indexOf(current, name);
  return { farms: current.farms.filter((_, i) => i !== index) };
}

/** Adds a backend, or sets the given attributes of the one of that name. */
export function upsertBackend(current: Config, farmName: string, backend: Raw): Config {
  const index = indexOf(current, farmName);
  const raw = farmToNftlb(current.farms[index] as Config["farms"][number]) as NftlbFarm & { backends: Raw[] };
  const name = backend.name;
  if (typeof name !== "string" || name === "") throw invalid([{ farm: farmName, backend: "#new", field: "name", message: "is required" }]);
  let target = raw.backends.find((b) => b.name === name);
  if (target === undefined) {
    target = {};
    raw.backends.push(target);
  }
  for (const [key, value] of Object.entries(backend)) own(target, key, value);
  return replaceFarm(current, index, raw as unknown as Raw);
}

export function removeBackend(current: Config, farmName: string, name: string): Config {
  const index = indexOf(current, farmName);
  const farm = current.farms[index] as Config["farms"][number];
  if (!farm.backends.some((b) => b.name === name)) throw notFound(`farm "${farmName}", backend "${name}": no such backend`);
  return { farms: current.farms.map((f, i) => (i === index ? { ...farm, backends: farm.backends.filter((b) => b.name !== name) } : f)) };
}

/** The whole config as it was at a revision, or only one farm of it (added back, or removed when it did not exist then). */
export function rolledBack(current: Config, target: Config, farm?: string): Config {
  if (farm === undefined) return target;
  const then = target.farms.find((f) => f.name === farm);
  const index = current.farms.findIndex((f) => f.name === farm);
  if (then === undefined) {
    if (index < 0) throw notFound(`farm "${farm}": not in the current config nor in that revision`);
    return { farms: current.farms.filter((_, i) => i !== index) };
  }
  const parsed = safeReplaceFarms(current, [{ index: index < 0 ? current.farms.length : index, raw: farmToNftlb(then) }]);
  if (!parsed.ok) throw invalid(parsed.issues);
  return parsed.config;
}

/**
 * The whole farm as given (attributes and backends, in nftlb's form) in place of the one of that
 * name. The name stays: it is part of the farm's chain and counter names on every node.
 */
export function replaceWholeFarm(current: Config, name: string, farm: Raw): Config {
  const index = indexOf(current, name);
  if (farm.name !== undefined && farm.name !== name) {
    throw invalid([{ farm: name, field: "name", value: farm.name, message: "cannot be changed: create a farm of the new name and remove this one" }]);
  }
  const raw: Raw = {};
  own(raw, "name", name);
  for (const [key, value] of Object.entries(farm)) if (key !== "name") own(raw, key, value);
  return replaceFarm(current, index, raw);
}

/** Farms put in one state: every name must exist, or nothing changes. */
export function setFarmStates(current: Config, names: readonly string[], state: Config["farms"][number]["state"]): Config {
  const index = new Map(current.farms.map((f, i) => [f.name, i]));
  const missing = [...new Set(names)].filter((n) => !index.has(n));
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((n) => `"${n}"`).join(", ");
    throw notFound(`no such farm: ${shown}${missing.length > 5 ? ` and ${missing.length - 5} more` : ""}; no state was changed`);
  }
  const updates: { index: number; raw: unknown }[] = [];
  for (const name of new Set(names)) {
    const i = index.get(name) as number;
    const farm = current.farms[i] as Config["farms"][number];
    if (farm.state !== state) updates.push({ index: i, raw: { ...farmToNftlb(farm), state } });
  }
  if (updates.length === 0) return current;
  const parsed = safeReplaceFarms(current, updates);
  if (!parsed.ok) throw invalid(parsed.issues);
  return parsed.config;
}
