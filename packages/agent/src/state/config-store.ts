import { crossFarmIssuesAfter, farmNamed, farmPosition, farmsRemoved, farmToNftlb, formatIssue, safeReplaceFarms, type Config, type ConfigIssue, type Farm } from "@switchyard/core";

// The standalone agent's farm config and nftlb's merge semantics for its REST API:
// a fragment {"farms": [...]} creates the farms it names that do not exist and merges the
// attributes it gives into those that do; backends merge the same way, by name, within
// their farm. Every change yields a whole new config that the schema accepts, or a reason;
// nothing here touches the current config until the caller commits the new one.

export type Change =
  /** `changed`: the names of the farms added, changed or removed (both names of a renamed farm); every other farm is the same object. */
  | { ok: true; config: Config; changed: string[] }
  | { ok: false; status: 400 | 404; message: string };

type Raw = Record<string, unknown>;

const isObject = (value: unknown): value is Raw => value !== null && typeof value === "object" && !Array.isArray(value);

const refuse = (status: 400 | 404, issues: ConfigIssue[]): Change => ({ ok: false, status, message: issues.map(formatIssue).join("; ") });

/** nftlb's attribute to rename a farm or a backend in a fragment. */
const NEW_NAME = "newname";

/**
 * Merges attributes into `target`, which is in nftlb's string form. A `newname` is applied
 * after the merge so that the entity is found under its current name first.
 */
function assignAttributes(target: Raw, source: Raw): void {
  for (const [key, value] of Object.entries(source)) {
    if (key === "backends" || key === NEW_NAME) continue;
    // defineProperty: a "__proto__" key from JSON stays an own (and so unknown) attribute.
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (source[NEW_NAME] !== undefined) target.name = source[NEW_NAME];
}

/** Checks the fragment's shape; attribute values are the schema's job on the merged result. */
function fragmentFarms(fragment: unknown): { farms: Raw[] } | { issues: ConfigIssue[] } {
  if (!isObject(fragment)) return { issues: [{ field: "", message: 'the body must be a JSON object such as {"farms": [...]}' }] };
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(fragment)) {
    if (key !== "farms") issues.push({ field: key, message: "unknown attribute (this API takes {\"farms\": [...]})" });
  }
  const farms = fragment.farms;
  if (!Array.isArray(farms)) {
    issues.push({ field: "farms", message: farms === undefined ? "is required" : "must be a list of farms" });
    return { issues };
  }
  farms.forEach((farm, i) => {
    if (!isObject(farm)) {
      issues.push({ farm: `#${i + 1}`, field: "", message: "must be an object" });
      return;
    }
    const farmName = typeof farm.name === "string" && farm.name !== "" ? farm.name : `#${i + 1}`;
    if (typeof farm.name !== "string" || farm.name === "") issues.push({ farm: farmName, field: "name", message: "is required" });
    if (farm.backends === undefined) return;
    if (!Array.isArray(farm.backends)) {
      issues.push({ farm: farmName, field: "backends", message: "must be a list of backends" });
      return;
    }
    farm.backends.forEach((backend: unknown, j) => {
      if (!isObject(backend)) issues.push({ farm: farmName, backend: `#${j + 1}`, field: "", message: "must be an object" });
      else if (typeof backend.name !== "string" || backend.name === "") {
        issues.push({ farm: farmName, backend: `#${j + 1}`, field: "name", message: "is required" });
      }
    });
  });
  return issues.length > 0 ? { issues } : { farms: farms as Raw[] };
}

/** The config that results from merging an nftlb fragment into `current`, if it is valid. */
export function mergeFragment(current: Config, fragment: unknown): Change {
  const shape = fragmentFarms(fragment);
  if ("issues" in shape) return refuse(400, shape.issues);
  // Only the farms the fragment names are touched: each in nftlb's own form (every attribute
  // spelled out), so that the fragment's values, strings or numbers, meet the current ones in
  // the same shape, then parsed again; the others stay as they are.
  // Where each farm is: the config's index (kept from change to change), with this fragment's
  // renames and additions over it.
  const moved = new Map<string, number | undefined>();
  const indexOf = {
    get: (name: string) => (moved.has(name) ? moved.get(name) : farmPosition(current, name)),
    delete: (name: string) => moved.set(name, undefined),
    set: (name: string, index: number) => moved.set(name, index),
  };
  const touched = new Map<number, Raw>();
  for (const part of shape.farms) {
    let index = indexOf.get(part.name as string);
    if (index === undefined) {
      index = current.farms.length + [...touched.keys()].filter((i) => i >= current.farms.length).length;
      touched.set(index, { backends: [] });
    } else if (!touched.has(index)) {
      touched.set(index, farmToNftlb(current.farms[index] as Farm) as unknown as Raw);
    }
    const farm = touched.get(index) as Raw;
    indexOf.delete(part.name as string);
    const backends = farm.backends as Raw[];
    assignAttributes(farm, part);
    farm.backends = backends;
    indexOf.set(farm.name as string, index);
    for (const backendPart of (part.backends as Raw[] | undefined) ?? []) {
      let backend = backends.find((b) => b.name === backendPart.name);
      if (backend === undefined) {
        backend = {};
        backends.push(backend);
      }
      assignAttributes(backend, backendPart);
    }
  }
  const parsed = safeReplaceFarms(current, [...touched].map(([index, raw]) => ({ index, raw })));
  if (!parsed.ok) return refuse(400, parsed.issues);
  const changed = new Set<string>();
  for (const index of touched.keys()) {
    const before = current.farms[index];
    const after = parsed.config.farms[index] as Farm;
    if (before !== undefined) changed.add(before.name);
    changed.add(after.name);
  }
  return { ok: true, config: parsed.config, changed: [...changed] };
}

export function removeFarm(current: Config, name: string): Change {
  const at = farmPosition(current, name);
  if (at === undefined) return refuse(404, [{ farm: name, field: "", message: "no such farm" }]);
  const config: Config = { ...current, farms: current.farms.filter((f) => f.name !== name) };
  // The farm index goes along (the positions after the farm shift), instead of a rebuild at the next change.
  farmsRemoved(current, config, current.farms.flatMap((f, i) => (f.name === name ? [i] : [])));
  return { ok: true, config, changed: [name] };
}

export function removeBackend(current: Config, farmName: string, backendName: string): Change {
  const at = farmPosition(current, farmName);
  const farm = at === undefined ? undefined : current.farms[at];
  if (at === undefined || farm === undefined) return refuse(404, [{ farm: farmName, field: "", message: "no such farm" }]);
  if (!farm.backends.some((b) => b.name === backendName)) {
    return refuse(404, [{ farm: farmName, backend: backendName, field: "", message: "no such backend" }]);
  }
  const changed: Farm = { ...farm, backends: farm.backends.filter((b) => b.name !== backendName) };
  const farms = [...current.farms];
  farms[at] = changed;
  const config: Config = { ...current, farms };
  // Nothing across farms changes with a backend less; the check only carries the farm index
  // over to the new config (O(1)), so that the next change finds its farms without a rebuild.
  crossFarmIssuesAfter(current, config, [at]);
  return { ok: true, config, changed: [farmName] };
}

/**
 * The standalone agent's current config: what the kernel holds. Proposals do not change it;
 * the caller commits a proposal once it is applied and saved.
 */
export class ConfigStore {
  private current: Config;

  constructor(initial: Config = { farms: [] }) {
    this.current = initial;
  }

  get config(): Config {
    return this.current;
  }

  farm(name: string): Farm | undefined {
    return farmNamed(this.current, name);
  }

  merge(fragment: unknown): Change {
    return mergeFragment(this.current, fragment);
  }

  removeFarm(name: string): Change {
    return removeFarm(this.current, name);
  }

  removeBackend(farm: string, backend: string): Change {
    return removeBackend(this.current, farm, backend);
  }

  commit(config: Config): void {
    this.current = config;
  }
}
