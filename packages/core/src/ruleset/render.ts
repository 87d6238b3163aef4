import { mapValueOf, OWNED_FAMILIES, type IrChain, type IrMap, type IrRuleset, type IrTable } from "./ir.ts";

// IR -> nft text. Pure and deterministic: the same IR gives the same bytes, which is what
// unit tests compare and what the agent hands to `nft -f -`.

function renderMap(map: IrMap, counters: CounterValues | undefined, seeded: Set<string>): string {
  if (mapValueOf(map) === "counted") return renderCountedSet(map, counters, seeded);
  const lines = [`\tmap ${map.name} {`, `\t\ttype ${map.key} : ${mapValueOf(map)}`];
  if (map.interval) lines.push("\t\tflags interval");
  if (map.elements.length > 0) {
    lines.push(`\t\telements = {\n${map.elements.map(([k, v]) => `\t\t\t${k} : ${v}`).join(",\n")}\n\t\t}`);
  }
  lines.push("\t}");
  return lines.join("\n");
}

/**
 * A set whose elements count: declared with `counter`, so that every element gets its own. A
 * backend's counter is the sum of its elements (one per place of its farm: several when the farm
 * has several ports), so the value `counters` holds for its name seeds the first element of
 * that name in the table (`seeded` remembers which) and the others start from zero.
 */
function renderCountedSet(map: IrMap, counters: CounterValues | undefined, seeded: Set<string>): string {
  const lines = [`\tset ${map.name} {`, `\t\ttype ${map.key}`];
  if (map.interval) lines.push("\t\tflags interval");
  lines.push("\t\tcounter");
  if (map.elements.length > 0) {
    const element = ([key, name]: readonly [string, string]) => {
      if (counters === undefined || seeded.has(name)) return `\t\t\t${key}`;
      seeded.add(name);
      const start = counterStart(counters.get(name));
      return start === "" ? `\t\t\t${key}` : `\t\t\t${key} counter ${start}`;
    };
    lines.push(`\t\telements = {\n${map.elements.map(element).join(",\n")}\n\t\t}`);
  }
  lines.push("\t}");
  return lines.join("\n");
}

function renderChain(chain: IrChain): string {
  const lines = [`\tchain ${chain.name} {`];
  const hook = chain.hook;
  if (hook) {
    const device = hook.device === undefined ? "" : ` device "${hook.device}"`;
    lines.push(`\t\ttype ${hook.type} hook ${hook.hook}${device} priority ${hook.priority}; policy accept;`);
  }
  for (const rule of chain.rules) lines.push(`\t\t${rule}`);
  lines.push("\t}");
  return lines.join("\n");
}

/** A counter's starting value, for a replace that carries counts over (the kernel's, read just before). */
export interface CounterValue {
  packets: number;
  bytes: number;
}

export type CounterValues = ReadonlyMap<string, CounterValue>;

/** "packets N bytes M" for a value nft takes, else "" (the counter starts from zero). */
function counterStart(v: CounterValue | undefined): string {
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
  return v !== undefined && ok(v.packets) && ok(v.bytes) ? `packets ${v.packets} bytes ${v.bytes}` : "";
}

function renderCounter(name: string, values: CounterValues | undefined): string {
  const start = counterStart(values?.get(name));
  return start === "" ? `\tcounter ${name} {\n\t}` : `\tcounter ${name} {\n\t\t${start}\n\t}`;
}

/** The table as one nft block; `counters` seeds named counters and counted elements (a replace would otherwise start them from zero). */
export function renderTable(table: IrTable, counters?: CounterValues): string {
  const seeded = new Set<string>();
  const body = [...(table.counters ?? []).map((c) => renderCounter(c, counters)), ...table.maps.map((m) => renderMap(m, counters, seeded)), ...table.chains.map(renderChain)];
  return `table ${table.family} ${table.name} {\n${body.join("\n")}\n}\n`;
}

export function renderRuleset(ir: IrRuleset, counters?: CounterValues): string {
  return ir.tables.map((t) => renderTable(t, t.family === "inet" ? counters : undefined)).join("");
}

/**
 * One nft transaction that replaces every table the agent owns under `tableName` with the
 * IR's: each owned table is created if missing (so that the delete cannot fail), deleted,
 * and defined anew. nft commits the whole script or nothing. The named counters of the inet
 * table start from `counters` where given (the agent passes what the kernel held), else zero.
 */
export function renderReplaceScript(ir: IrRuleset, tableName: string, counters?: CounterValues): string {
  const resets = OWNED_FAMILIES.map((family) => `table ${family} ${tableName}\ndelete table ${family} ${tableName}\n`);
  return resets.join("") + renderRuleset(ir, counters);
}
