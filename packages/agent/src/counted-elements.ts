import { mapValueOf, type CounterValue, type IrMap, type IrRuleset } from "@switchyard/core";
import { elementKeyer } from "./nft/netlink/set-key.ts";

// Which backend each element of the traffic sets counts for. The kernel knows an element by
// its key only; the IR's counted sets pair every key with the name the agent reports it under
// (`t/FARM/BACKEND`). A backend has one element per place of its farm (each port, range…),
// so its count is the sum of its elements'.

/** The counted sets with elements of the agent's inet table in `ir`. */
export function countedSets(ir: IrRuleset | null, table: string): IrMap[] {
  const inet = ir?.tables.find((t) => t.family === "inet" && t.name === table);
  return inet === undefined ? [] : inet.maps.filter((m) => mapValueOf(m) === "counted" && m.elements.length > 0);
}

/** How a reading names a set's elements: by the kernel's key bytes (netlink), or by the key's text as nft prints it. */
export type ElementKeyOf = (set: IrMap) => (keyText: string) => string | null;

/** The key as a netlink dump gives it (set-key.ts), the set's key layout parsed once. */
export const kernelKey: ElementKeyOf = (set) => elementKeyer(set.key, set.interval) ?? (() => null);

/** nft prints IPv6 addresses as inet_ntop writes them (RFC 5952); the WHATWG URL parser writes the same. */
function listedPart(part: string): string {
  if (!part.includes(":")) return part;
  try {
    return new URL(`http://[${part}]/`).hostname.slice(1, -1);
  } catch {
    return part;
  }
}

/** The key as `nft list set` prints it. */
export const listedKey: ElementKeyOf = () => (keyText) => keyText.split(" . ").map(listedPart).join(" . ");

/**
 * Adds what each set's elements counted (`read`: set name -> key -> value) into `into`, under
 * the elements' names. An element the reading lacks (added after it, or gone) adds nothing.
 */
export function addCountedValues(sets: readonly IrMap[], read: ReadonlyMap<string, ReadonlyMap<string, CounterValue>>, keyOf: ElementKeyOf, into: Map<string, CounterValue>): void {
  for (const set of sets) {
    const values = read.get(set.name);
    if (values === undefined || values.size === 0) continue;
    const keyFor = keyOf(set);
    for (const [keyText, name] of set.elements) {
      const key = keyFor(keyText);
      const value = key === null ? undefined : values.get(key);
      if (value === undefined) continue;
      const sum = into.get(name);
      into.set(name, sum === undefined ? { packets: value.packets, bytes: value.bytes } : { packets: sum.packets + value.packets, bytes: sum.bytes + value.bytes });
    }
  }
}
