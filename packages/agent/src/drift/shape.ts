import type { IrTable } from "@switchyard/core";

// The outline of one of the agent's tables: which chains (hooked or not, how many rules) and
// which maps (how many elements). Read from the IR and from `nft -s list table`, it shows drift
// that removed, added or emptied anything without nft's canonical form of each rule; rule text
// edited in place is caught by comparing whole listings (see watcher.ts).

export interface TableShape {
  chains: Map<string, { hooked: boolean; rules: number }>;
  /** Maps and counted sets (IR maps whose elements count: nft `set … { counter }`), by name: their element counts. */
  maps: Map<string, number>;
  /** Named counters: the agent's own (the IR's), counting all the time; their values are not shape. */
  counters: Set<string>;
  /** Sets, quotas, flowtables… the agent never creates any: each is drift. */
  others: string[];
}

export function shapeOfIr(table: IrTable): TableShape {
  return {
    chains: new Map(table.chains.map((c) => [c.name, { hooked: c.hook !== undefined, rules: c.rules.length }])),
    maps: new Map(table.maps.map((m) => [m.name, m.elements.length])),
    counters: new Set(table.counters ?? []),
    others: [],
  };
}

/** Elements print as `key : verdict`, one separator each (IPv6 colons have no spaces around them). */
const countElements = (text: string) => text.split(" : ").length - 1;

/** A counted set's elements print as `key counter` (stateless), one each; keys hold no commas or braces. */
const countCountedElements = (text: string) => text.match(/ counter(?=,|\s*\}|\s*$)/g)?.length ?? 0;

/** The shape of `nft -s list table FAMILY NAME` output (nft 1.0.x layout: one tab per depth). */
export function shapeOfListing(listing: string): TableShape {
  const shape: TableShape = { chains: new Map(), maps: new Map(), counters: new Set(), others: [] };
  let block: { kind: "chain" | "map" | "other"; name: string; counted?: boolean } | null = null;
  let inElements = false;
  for (const line of listing.split("\n")) {
    const open = /^\t(chain|map|set|counter|quota|limit|ct helper|flowtable) (\S+) \{$/.exec(line);
    if (open) {
      // A set is the agent's only as a counted set: taken for a map here until its block ends without a `counter` line.
      const kind = open[1] === "chain" ? "chain" : open[1] === "map" || open[1] === "set" ? "map" : "other";
      block = { kind, name: open[2] ?? "", ...(open[1] === "set" ? { counted: false } : {}) };
      if (kind === "chain") shape.chains.set(block.name, { hooked: false, rules: 0 });
      if (kind === "map") shape.maps.set(block.name, 0);
      if (kind === "other") {
        if (open[1] === "counter") shape.counters.add(block.name);
        else shape.others.push(`${open[1]} ${block.name}`);
      }
      continue;
    }
    if (/^\t\}$/.test(line)) {
      // A set without the counter flag is none of the agent's counted sets.
      if (block?.counted === false) {
        shape.maps.delete(block.name);
        shape.others.push(`set ${block.name}`);
      }
      block = null;
      inElements = false;
      continue;
    }
    if (block === null || !line.startsWith("\t\t")) continue;
    const body = line.trim();
    if (block.kind === "chain") {
      const chain = shape.chains.get(block.name);
      if (chain === undefined) continue;
      if (/^type \S+ hook /.test(body)) chain.hooked = true;
      else if (body !== "") chain.rules++;
    } else if (block.kind === "map") {
      if (block.counted === false && body === "counter") block.counted = true;
      if (body.startsWith("elements = {")) inElements = true;
      if (inElements) {
        shape.maps.set(block.name, (shape.maps.get(block.name) ?? 0) + (block.counted === undefined ? countElements(body) : countCountedElements(body)));
        if (body.endsWith("}")) inElements = false;
      }
    }
  }
  return shape;
}

/** What differs between the expected and the actual shape, one sentence each. */
export function compareShapes(expected: TableShape, actual: TableShape, where: string): string[] {
  const out: string[] = [];
  for (const [name, want] of expected.chains) {
    const got = actual.chains.get(name);
    if (got === undefined) out.push(`${where}: chain ${name} is missing`);
    else if (got.hooked !== want.hooked) out.push(`${where}: chain ${name} is ${got.hooked ? "" : "not "}a base chain`);
    else if (got.rules !== want.rules) out.push(`${where}: chain ${name} has ${got.rules} rules, expected ${want.rules}`);
  }
  for (const name of actual.chains.keys()) if (!expected.chains.has(name)) out.push(`${where}: chain ${name} is not the agent's`);
  for (const [name, want] of expected.maps) {
    const got = actual.maps.get(name);
    if (got === undefined) out.push(`${where}: map ${name} is missing`);
    else if (got !== want) out.push(`${where}: map ${name} has ${got} elements, expected ${want}`);
  }
  for (const name of actual.maps.keys()) if (!expected.maps.has(name)) out.push(`${where}: map ${name} is not the agent's`);
  for (const name of expected.counters) if (!actual.counters.has(name)) out.push(`${where}: counter ${name} is missing`);
  for (const name of actual.counters) if (!expected.counters.has(name)) out.push(`${where}: counter ${name} is not the agent's`);
  for (const other of actual.others) if (!expected.others.includes(other)) out.push(`${where}: ${other} is not the agent's`);
  return out;
}
