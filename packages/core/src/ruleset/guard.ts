import { COUNTER_NAME, IrRulesetSchema, mapValueOf, OWNED_FAMILIES, type IrChain, type IrMap, type IrRuleset, type IrTable } from "./ir.ts";
import { IrPatchSchema, type IrPatch, type TablePatch } from "./ir-patch.ts";

// The agent composes every table, chain and map command itself; only rule statements and
// map elements travel as text. This module decides whether that text may be pasted into
// `add rule <family> <table> <chain> <text>` and `add element ... { <key> : <value> }`
// without the result doing anything outside the agent's own tables: no second command
// (separators, line breaks, braces), no variables or includes, no references to chains or
// maps that are not the table's own. It is deliberately stricter than nft: whatever the
// renderer writes passes, and anything else that is not plainly one statement is refused.

/** The longest rule statement (and element key or value) the agent accepts. */
export const MAX_RULE_LENGTH = 4096;

/** Words that name nft commands or act on whole tables/rulesets: never part of a rule the agent adds. */
export const FORBIDDEN_WORDS: readonly string[] = [
  "table",
  "flush",
  "delete",
  "destroy",
  "add",
  "insert",
  "replace",
  "create",
  "rename",
  "include",
  "define",
  "redefine",
  "undefine",
  "ruleset",
  "reset",
  "list",
  "monitor",
  "export",
  "import",
];

/** An interface name as the kernel allows it (and as the farm model does). */
const IFACE = /^[A-Za-z0-9_.-]{1,15}$/;
/** A double-quoted interface name standing as a word of its own, e.g. `fwd to "eth-b"`. */
const QUOTED_IFACE = /(^|\s)"[A-Za-z0-9_.-]{1,15}"(?=\s|$)/g;
/** A run of characters that can make up nft words, addresses and numbers. */
const CHUNK = /[A-Za-z0-9_./:-]+/g;
/** An IPv6 address or a MAC (or a range or prefix of them): hex digits with two or more ':' (nft reads it as one value). */
const HEX_WITH_COLONS = /^[0-9A-Fa-f./-]*(?::[0-9A-Fa-f./-]*){2,}$/;
/** What nft's scanner reads as one word (its `string` token): a keyword only when it is the whole token. */
const WORD = /[A-Za-z_.][A-Za-z0-9_./-]*/g;
/** One part of a concatenated element key: an address, a port or range, a protocol, a MAC. */
const KEY_PART = /^(?:[A-Za-z0-9_:./-]+|"[A-Za-z0-9_.-]{1,15}")$/;
const VERDICT = /^(?:accept|drop|return)$/;
const JUMP_VERDICT = /^(goto|jump) (\S+)$/;
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

/** An IR that the agent must not apply, with every reason found. */
export class IrRejected extends Error {
  constructor(readonly reasons: string[]) {
    const shown = reasons.slice(0, 20);
    const more = reasons.length > shown.length ? [`(and ${reasons.length - shown.length} more)`] : [];
    // One reason a line, as ConfigError does; the first line is a whole reason on its own.
    super([...shown, ...more].join("\n"));
    this.name = "IrRejected";
  }
}

/** The chains a rule jumps or goes to, the maps (sets) it names with `@`, the counters it names with `counter name`. */
export interface RuleReferences {
  chains: string[];
  maps: string[];
  /** The word after each `counter name` (quotes taken off); "" when there is none. */
  counters: string[];
}

/**
 * The references of one rule statement, as the guard reads them: the word after every
 * `jump`/`goto`, and the name after every `@`. For a rule that passed checkIr this is
 * exactly what nft resolves; the delta planner and the fake use it to order deletions.
 */
export function referencesOf(rule: string): RuleReferences {
  const chains: string[] = [];
  const maps: string[] = [];
  const counters: string[] = [];
  const words = rule.split(/\s+/).filter((w) => w !== "");
  words.forEach((word, i) => {
    if ((word === "jump" || word === "goto") && i + 1 < words.length) chains.push(words[i + 1] as string);
    // `counter name ct original ip daddr . … map @m` names its counter by a lookup: the map's
    // elements name the counters (checked as the map's values), and the map is an `@` reference.
    if (word === "counter" && words[i + 1] === "name" && !LOOKUP_START.includes(words[i + 2] ?? "")) counters.push((words[i + 2] ?? "").replace(/^"(.*)"$/, "$1"));
  });
  for (const m of rule.matchAll(/@([^\s]*)/g)) maps.push(m[1] ?? "");
  return { chains, maps, counters };
}

/**
 * Words that begin an expression where `counter name` takes one (nft's scanner reads each as a
 * keyword, never as a counter's name): the counter is then looked up in a map.
 */
const LOOKUP_START: readonly string[] = ["ct", "meta", "ip", "ip6", "th", "tcp", "udp", "sctp", "ether", "numgen", "jhash", "symhash"];

/** The chain an element's verdict jumps or goes to, if any. */
export function verdictTarget(verdict: string): string | undefined {
  return JUMP_VERDICT.exec(verdict)?.[2];
}

const snippet = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;

/** No problems: one frozen array for every text that has none (most of them). */
const NO_PROBLEMS: readonly string[] = Object.freeze([]);

/** Any character findTextProblems has something to say about, or must look at closer (a double quote). */
const SUSPECT = /[^\x20-\x7e]|[;#{}\\`$'"]/;

/**
 * Each forbidden word where nft could read it as a word (not inside a longer one): everything
 * forbiddenWords finds, and more (a word after a digit, an IPv6 address's hex digits), so that a
 * text it does not match has no forbidden word.
 */
const MAYBE_FORBIDDEN = new RegExp(`(?<![A-Za-z_.])(?:${FORBIDDEN_WORDS.join("|")})(?![A-Za-z0-9_./-])`, "i");

/**
 * The character-level problems of one piece of text (rule, element key or value): anything
 * that could end the command it is pasted into or make nft read more than one statement.
 */
export function textProblems(text: string): string[] {
  return [...problemsOf(text)];
}

/**
 * textProblems without the copy. At 10,000 farms an IR holds 120,000 texts, and a managed agent
 * checks every one of them on each whole ruleset it receives: two regular expression tests
 * clear a plain text (all of the renderer's), and only the others are looked at closely.
 */
function problemsOf(text: string): readonly string[] {
  if (text.length <= MAX_RULE_LENGTH && !SUSPECT.test(text) && !MAYBE_FORBIDDEN.test(text) && text.trim() !== "") return NO_PROBLEMS;
  return findTextProblems(text);
}

/** Every character-level problem of `text`, looked for one by one (textProblems clears plain texts before it). */
export function findTextProblems(text: string): readonly string[] {
  const problems: string[] = [];
  const add = (problem: string) => {
    if (!problems.includes(problem)) problems.push(problem);
  };
  if (text.length > MAX_RULE_LENGTH) add(`is ${text.length} characters long (at most ${MAX_RULE_LENGTH})`);
  if (text.trim() === "") add("is empty");
  for (const ch of text) {
    if (ch === ";") add('contains ";" (a statement separator)');
    else if (ch === "\n" || ch === "\r") add("contains a line break (a command separator)");
    else if (ch === "#") add('contains "#" (a comment hides the rest of the command)');
    else if (ch === "{" || ch === "}") add(`contains "${ch}" (a brace could open or close a block)`);
    else if (ch === "\\") add('contains "\\" (an escape)');
    else if (ch === "`") add('contains "`"');
    else if (ch === "$") add('contains "$" (an nft variable)');
    else if (ch === "'") add("contains \"'\" (only double quotes around an interface name are allowed)");
    else if (ch === "\0") add("contains a NUL character");
    else if (ch < " " || ch === "\x7f") add(`contains the control character ${codePoint(ch)}`);
    else if (ch > "\x7f") add(`contains the non-ASCII character ${codePoint(ch)}`);
  }
  if (text.replace(QUOTED_IFACE, "$1").includes('"')) {
    add('contains a double quote that is not around an interface name (only "name" with 1-15 letters, digits, "_", "." or "-" is allowed)');
  }
  for (const word of forbiddenWords(text)) add(`contains the word "${word}", which acts outside one rule`);
  return problems.length === 0 ? NO_PROBLEMS : problems;
}

/** The forbidden words that nft would read as words in `text` (quoted interface names and addresses aside). */
function forbiddenWords(text: string): string[] {
  const found = new Set<string>();
  for (const chunk of text.replace(QUOTED_IFACE, "$1").match(CHUNK) ?? []) {
    if (HEX_WITH_COLONS.test(chunk)) continue; // 2001:db8::add is an address, not the word "add"
    for (const piece of chunk.split(":")) {
      for (const word of piece.match(WORD) ?? []) {
        if (FORBIDDEN_WORDS.includes(word.toLowerCase())) found.add(word.toLowerCase());
      }
    }
  }
  return [...found];
}

interface Lookup<V> {
  get(name: string): V | undefined;
  has(name: string): boolean;
}

interface TableIndex {
  where: string;
  chains: Lookup<IrChain>;
  maps: Lookup<IrMap>;
  counters: { has(name: string): boolean };
}

/** A table's names, as the checks look things up in them. */
interface TableNames {
  chains: Map<string, IrChain>;
  maps: Map<string, IrMap>;
  counters: Set<string>;
}

function chainTargetProblem(index: TableIndex, target: string): string | null {
  const chain = index.chains.get(target);
  if (chain === undefined) return `jumps to "${target}", which is not a chain of ${index.where}`;
  if (chain.hook !== undefined) return `jumps to "${target}", a base chain (only regular chains can be jump or goto targets)`;
  return null;
}

function checkHook(table: IrTable, chain: IrChain, reasons: string[], where: string): void {
  const hook = chain.hook;
  if (hook === undefined) return;
  const at = `${where}, chain ${chain.name}: hook`;
  if (hook.priority < INT32.min || hook.priority > INT32.max) reasons.push(`${at} priority ${hook.priority} is not a 32-bit integer`);
  if (table.family === "inet") {
    if (hook.hook === "ingress") reasons.push(`${at} ingress belongs in a netdev table, not in inet`);
    if (hook.device !== undefined) reasons.push(`${at} names a device, which only netdev ingress chains have`);
  } else {
    if (hook.type === "nat") reasons.push(`${at} type nat belongs in the inet table, not in ${table.family}`);
    if (hook.hook !== "ingress") reasons.push(`${at} ${hook.hook} is not a netdev hook (only ingress is)`);
    if (hook.device === undefined) reasons.push(`${at} ingress needs a device`);
    else if (!IFACE.test(hook.device)) reasons.push(`${at} device ${snippet(hook.device)} is not an interface name`);
  }
}

interface RuleFacts {
  problems: readonly string[];
  /** Each jump or goto: its target, or null with the verb when it has none. */
  jumps: readonly { verb: string; target: string | null }[];
  maps: readonly string[];
  counters: readonly string[];
  /** The maps that `counter name <key> map @m` looks a counter up in: each must be a counter map. */
  counterMaps: readonly string[];
}

/**
 * A rule's facts in short: most rules at scale are clean backend rules that name one counter
 * and nothing else (that counter's name); a clean rule with no reference at all is null;
 * anything else its RuleFacts.
 */
type ShortFacts = RuleFacts | string | null;

const NO_NAMES: readonly string[] = Object.freeze([]);

/** A rule that names one counter and nothing else (no jump, goto or `@`), e.g. a backend's dnat rule: the counter. */
const ONE_COUNTER = /^(?:(?!jump|goto|@|counter).)*(?:^|\s)counter\s+name\s+([^\s"]+)(?:(?!jump|goto|@|counter).)*$/;

function shortFacts(rule: string): ShortFacts {
  const problems = problemsOf(rule);
  if (problems.length > 0) return { problems, jumps: [], maps: [], counters: [], counterMaps: [] };
  if (!/jump|goto|@|counter/.test(rule)) return null;
  const one = ONE_COUNTER.exec(rule)?.[1];
  if (one !== undefined && !LOOKUP_START.includes(one)) return one;
  const words = rule.split(/\s+/).filter((w) => w !== "");
  const jumps: { verb: string; target: string | null }[] = [];
  const counterMaps: string[] = [];
  words.forEach((word, j) => {
    if (word === "jump" || word === "goto") jumps.push({ verb: word, target: words[j + 1] ?? null });
    if (word === "counter" && words[j + 1] === "name" && LOOKUP_START.includes(words[j + 2] ?? "")) {
      const at = words.indexOf("map", j + 3);
      counterMaps.push(at < 0 ? "" : (words[at + 1] ?? "").replace(/^@/, ""));
    }
  });
  const refs = referencesOf(rule);
  if (jumps.length === 0 && refs.maps.length === 0 && counterMaps.length === 0) {
    if (refs.counters.length === 0) return null;
    if (refs.counters.length === 1 && refs.counters[0] !== "") return refs.counters[0] as string;
  }
  return { problems, jumps, maps: refs.maps, counters: refs.counters, counterMaps };
}

function factsOf(short: ShortFacts): RuleFacts {
  if (short === null) return { problems: NO_PROBLEMS, jumps: [], maps: NO_NAMES, counters: NO_NAMES, counterMaps: NO_NAMES };
  if (typeof short === "string") return { problems: NO_PROBLEMS, jumps: [], maps: NO_NAMES, counters: [short], counterMaps: NO_NAMES };
  return short;
}

function checkRule(index: TableIndex, chain: IrChain, rule: string, i: number, reasons: string[]): void {
  const short = shortFacts(rule);
  // The common case at scale: a backend rule naming its own counter.
  if (short === null || (typeof short === "string" && index.counters.has(short))) return;
  const facts = factsOf(short);
  if (facts.problems.length === 0 && facts.jumps.length === 0 && facts.maps.length === 0 && facts.counterMaps.length === 0) {
    let known = true;
    for (const name of facts.counters) known &&= index.counters.has(name);
    if (known) return;
  }
  // Where the rule is: only written out when there is something to say (every backend rule
  // names a counter, so most rules with references have nothing wrong).
  const found: string[] = [...facts.problems];
  for (const { verb, target } of facts.jumps) {
    if (target === null) {
      found.push(`"${verb}" has no target chain`);
      continue;
    }
    const problem = chainTargetProblem(index, target);
    if (problem !== null) found.push(problem);
  }
  for (const name of facts.maps) {
    if (!index.maps.has(name)) found.push(`"@${name}" is not a map of ${index.where}`);
  }
  for (const name of facts.counterMaps) {
    const map = index.maps.get(name);
    if (name === "") found.push(`"counter name" looks a counter up with no "map @name"`);
    else if (map !== undefined && mapValueOf(map) !== "counter") found.push(`"counter name … map @${name}" looks a counter up in a map of ${mapValueOf(map)}s (only a counter map holds counters)`);
  }
  for (const name of facts.counters) {
    if (name === "") found.push(`"counter name" has no counter`);
    else if (!index.counters.has(name)) found.push(`"counter name ${name}" is not a counter of ${index.where} (only the table's own counters, by name)`);
  }
  if (found.length === 0) return;
  const at = `${index.where}, chain ${chain.name}, rule ${i + 1} (${snippet(rule)})`;
  for (const problem of found) reasons.push(`${at}: ${problem}`);
}

/** One element of `map` (the `i`th); `seen` collects keys for the duplicate check of a whole map. */
function checkElement(index: TableIndex, map: IrMap, key: string, value: string, i: number, reasons: string[], seen?: Set<string>): void {
  const at = `${index.where}, map ${map.name}, element ${i + 1}`;
  const keyProblems = problemsOf(key);
  for (const problem of keyProblems) reasons.push(`${at} key ${snippet(key)}: ${problem}`);
  if (keyProblems.length === 0) {
    const parts = map.key.split(" . ").length;
    const keyParts = key.split(" . ");
    if (keyParts.length !== parts) reasons.push(`${at} key ${snippet(key)}: has ${keyParts.length} parts, the map's type ${map.key} has ${parts}`);
    else if (!keyParts.every((p) => KEY_PART.test(p))) {
      reasons.push(`${at} key ${snippet(key)}: a part is not an address, port, range, protocol or MAC`);
    }
    if (seen !== undefined) {
      if (seen.has(key)) reasons.push(`${at} key ${snippet(key)}: is a duplicate key in this map`);
      seen.add(key);
    }
  }
  const valueProblems = problemsOf(value);
  for (const problem of valueProblems) reasons.push(`${at} value ${snippet(value)}: ${problem}`);
  if (valueProblems.length > 0) return;
  if (map.value === "counter") {
    if (!index.counters.has(value)) reasons.push(`${at} value ${snippet(value)}: is not a counter of ${index.where} (a counter map's values are the table's own counters, by name)`);
    return;
  }
  if (map.value === "counted") {
    // Never sent to nft: the name the agent reports the element's counter under.
    if (!COUNTER_NAME.test(value)) reasons.push(`${at} value ${snippet(value)}: must be a counter name (what the agent reports the element's count under)`);
    return;
  }
  const target = verdictTarget(value);
  if (target !== undefined) {
    const problem = chainTargetProblem(index, target);
    if (problem !== null) reasons.push(`${at} value ${snippet(value)}: ${problem}`);
  } else if (!VERDICT.test(value)) {
    reasons.push(`${at} value ${snippet(value)}: must be "goto <chain>", "jump <chain>", accept, drop or return`);
  }
}

function checkMap(index: TableIndex, map: IrMap, reasons: string[]): void {
  const seen = new Set<string>();
  map.elements.forEach(([key, value], i) => checkElement(index, map, key, value, i, reasons, seen));
}

/** Where a schema issue is, the way an operator reads an IR: "table inet switchyard, chain farm-web-4, rule 2". */
function locate(raw: unknown, path: readonly PropertyKey[]): string {
  const parts: string[] = [];
  let node: unknown = raw;
  path.forEach((key, i) => {
    const next = node !== null && typeof node === "object" ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    const parent = path[i - 1];
    if (typeof key === "number") {
      const obj = next !== null && typeof next === "object" ? (next as Record<string, unknown>) : {};
      const name = typeof obj.name === "string" ? obj.name : `#${key + 1}`;
      if (parent === "tables") parts.push(`table ${typeof obj.family === "string" ? `${obj.family} ` : ""}${name}`);
      else if (parent === "chains") parts.push(`chain ${name}`);
      else if (parent === "maps") parts.push(`map ${name}`);
      else if (parent === "counters") parts.push(`counter ${typeof next === "string" ? next : `#${key + 1}`}`);
      else if (parent === "rules") parts.push(`rule ${key + 1}`);
      else if (parent === "elements") parts.push(`element ${key + 1}`);
      else if (path[i - 2] === "elements") parts.push(key === 0 ? "key" : "value");
      else parts.push(`#${key + 1}`);
    } else if (typeof path[i + 1] !== "number") parts.push(String(key));
    node = next;
  });
  return parts.length === 0 ? "ruleset" : parts.join(", ");
}

/** The ruleset-level checks of one table: the agent's name, an owned family, one table per family. */
function checkTableHead(t: IrTable, table: string, families: Set<string>, reasons: string[]): string {
  const where = `table ${t.family} ${t.name}`;
  if (t.name !== table) reasons.push(`${where}: is not the agent's table (${table})`);
  if (!OWNED_FAMILIES.includes(t.family)) reasons.push(`${where}: family ${t.family} is not one the agent owns (${OWNED_FAMILIES.join(", ")})`);
  if (families.has(t.family)) reasons.push(`${where}: a second ${t.family} table (at most one per family)`);
  families.add(t.family);
  return where;
}

/** Everything inside one table (of a ruleset that passed the schema): names, hooks, rules, elements. */
function checkTableContent(t: IrTable, where: string, reasons: string[]): TableNames {
  const names: TableNames = { chains: new Map(), maps: new Map(), counters: new Set() };
  for (const chain of t.chains) {
    if (names.chains.has(chain.name)) reasons.push(`${where}, chain ${chain.name}: is a duplicate chain name`);
    else names.chains.set(chain.name, chain);
  }
  for (const map of t.maps) {
    if (names.maps.has(map.name)) reasons.push(`${where}, map ${map.name}: is a duplicate map name`);
    else names.maps.set(map.name, map);
  }
  for (const counter of t.counters ?? []) {
    const problem = counterProblem(counter, names.counters);
    if (problem !== null) reasons.push(`${where}, counter ${counter}: ${problem}`);
    else names.counters.add(counter);
  }
  const index: TableIndex = { where, ...names };
  for (const chain of t.chains) {
    checkHook(t, chain, reasons, where);
    chain.rules.forEach((rule, i) => checkRule(index, chain, rule, i, reasons));
  }
  for (const map of t.maps) checkMap(index, map, reasons);
  return names;
}

function counterProblem(counter: string, known: { has(name: string): boolean }): string | null {
  if (known.has(counter)) return "is a duplicate counter name";
  // A core name (c/FARM/BACKEND) holds "/", which no command word does.
  if (!counter.includes("/") && FORBIDDEN_WORDS.includes(counter.toLowerCase())) return "is an nft command word, not a name";
  return null;
}

/**
 * Tables that passed the guard, with their names: the proof that checkPatchedIr builds on. A
 * table is recorded only when it and everything in it is frozen, so that it is still what was
 * checked (nothing can have been changed in place since).
 */
const passedTables = new WeakMap<IrTable, TableNames>();

const frozenChain = (c: IrChain) => Object.isFrozen(c) && Object.isFrozen(c.rules) && (c.hook === undefined || Object.isFrozen(c.hook));
const frozenMap = (m: IrMap) => Object.isFrozen(m) && Object.isFrozen(m.elements) && m.elements.every((e) => Object.isFrozen(e));
const frozenLists = (t: IrTable) => Object.isFrozen(t) && Object.isFrozen(t.chains) && Object.isFrozen(t.maps) && (t.counters === undefined || Object.isFrozen(t.counters));

function remember(t: IrTable, names: TableNames): void {
  if (frozenLists(t) && t.chains.every(frozenChain) && t.maps.every(frozenMap)) passedTables.set(t, names);
}

/**
 * Throws IrRejected unless every table of `ir` is one of the agent's own (named `table`, of
 * an owned family, once per family) and every piece of text in it is a single statement
 * that stays inside its table. The renderer's output always passes.
 */
export function checkIr(ir: IrRuleset, table: string): void {
  const parsed = IrRulesetSchema.safeParse(ir);
  if (!parsed.success) throw new IrRejected(parsed.error.issues.map((issue) => `${locate(ir, issue.path)}: ${issue.message}`));
  // The input itself is checked from here on: it has the values the schema just accepted (no
  // transforms, no unknown keys), and it is what the caller applies and what is recorded.
  const reasons: string[] = [];
  const families = new Set<string>();
  const checked = ir.tables.map((t) => {
    const where = checkTableHead(t, table, families, reasons);
    return checkTableContent(t, where, reasons);
  });
  if (reasons.length > 0) throw new IrRejected(reasons);
  ir.tables.forEach((t, i) => remember(t, checked[i] as TableNames));
}

/** Names looked up in `over` first, then in `base`. */
class Overlay<V> implements Lookup<V> {
  constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly over: ReadonlyMap<string, V>,
  ) {}

  get(name: string): V | undefined {
    return this.over.get(name) ?? this.base.get(name);
  }

  has(name: string): boolean {
    return this.over.has(name) || this.base.has(name);
  }
}

type PartsPatch = Extract<TablePatch, { chains?: unknown }>;

/**
 * The checks of checkTableContent for `t`, made from `was` (which passed, with `names`) and
 * the patch `p` that made `t` from it, in O(what the patch touches): the chains it puts, the
 * maps it puts and the elements it adds, the counters it adds. Everything else in `t` is the
 * same as in `was`, and still right, as long as nothing it may refer to went away or became
 * a base chain; a patch that removes or reorders anything, or gives a chain a hook, gets null
 * (the caller checks the whole table). On success, the returned function moves the record of
 * `was` to `t` (when `t` is frozen as it must be to be recorded).
 */
function checkTableParts(t: IrTable, was: IrTable, where: string, names: TableNames, p: PartsPatch, reasons: string[]): (() => void) | null {
  if ((p.chains?.remove?.length ?? 0) > 0 || p.chains?.order !== undefined) return null;
  if ((p.maps?.remove?.length ?? 0) > 0 || p.maps?.order !== undefined) return null;
  if (p.counters !== undefined && ("all" in p.counters || (p.counters.remove?.length ?? 0) > 0)) return null;
  // As patchNamed puts them: by name, the last one of a name wins.
  const chains = new Map<string, IrChain>();
  for (const chain of p.chains?.put ?? []) chains.set(chain.name, chain);
  for (const [name, chain] of chains) {
    const old = names.chains.get(name);
    if (old !== undefined && old.hook === undefined && chain.hook !== undefined) return null;
  }
  // The maps the patch touches, as they ended up (put whole, or with elements added and removed).
  const putMaps = new Set((p.maps?.put ?? []).map((m) => m.name));
  const touched = new Set([...putMaps, ...(p.elements ?? []).map((e) => e.map)]);
  const maps = new Map<string, IrMap>();
  for (const map of t.maps) if (touched.has(map.name)) maps.set(map.name, map);
  const counters = new Set<string>();
  const known = { has: (name: string) => counters.has(name) || names.counters.has(name) };
  for (const counter of p.counters?.add ?? []) {
    const problem = counterProblem(counter, known);
    if (problem !== null) reasons.push(`${where}, counter ${counter}: ${problem}`);
    else counters.add(counter);
  }
  const index: TableIndex = { where, chains: new Overlay(names.chains, chains), maps: new Overlay(names.maps, maps), counters: known };
  for (const chain of chains.values()) {
    checkHook(t, chain, reasons, where);
    chain.rules.forEach((rule, i) => checkRule(index, chain, rule, i, reasons));
  }
  for (const [name, map] of maps) {
    if (putMaps.has(name)) {
      checkMap(index, map, reasons);
      continue;
    }
    // Adding by key cannot make a duplicate key (an added key that is there replaces it).
    const added = new Set<string>();
    for (const e of p.elements ?? []) if (e.map === name) for (const [key] of e.add) added.add(key);
    map.elements.forEach(([key, value], i) => {
      if (added.has(key)) checkElement(index, map, key, value, i, reasons);
    });
  }
  return () => {
    if (!frozenLists(t) || ![...chains.values()].every(frozenChain) || ![...maps.values()].every(frozenMap)) return;
    // `was` is not what these names describe any more: its record goes (checked in full if it comes back).
    for (const [name, chain] of chains) names.chains.set(name, chain);
    for (const [name, map] of maps) names.maps.set(name, map);
    for (const counter of counters) names.counters.add(counter);
    passedTables.delete(was);
    passedTables.set(t, names);
  };
}

/** Where a schema issue of a patch is: its path, as "tables.0.chains.put.3.rules.2". */
const patchPath = (path: readonly PropertyKey[]) => (path.length === 0 ? "patch" : `patch ${path.map(String).join(".")}`);

/**
 * checkIr(to, table) for `to = patchIr(from, patch)`, where `from` passed checkIr (or this):
 * throws IrRejected exactly when checkIr would, but looks only at what the patch changed
 * when it can. The patch is checked against the patch schema (every chain, map, element and
 * counter in it as the IR's schema checks them in a whole ruleset); a table of `to` is then
 * checked in part only when its `from` table is on record as checked (and frozen since), the
 * patch changed it once, and only by putting chains and maps, adding elements and counters
 * (checkTableParts); any other table is checked in full. A patch is never a way around the
 * checks a whole ruleset gets.
 *
 * `to` must be patchIr(from, patch) (with the patch as given): that is what makes its parts
 * from `from` and from the patch the only parts there are.
 */
export function checkPatchedIr(from: IrRuleset, patch: unknown, to: IrRuleset, table: string): void {
  const parsed = IrPatchSchema.safeParse(patch);
  if (!parsed.success) throw new IrRejected(parsed.error.issues.map((issue) => `${patchPath(issue.path)}: ${issue.message}`));
  // The patch itself from here on (as checkIr goes on with its input): the same values, and
  // the very chain and map objects that patchIr put into `to`, which the record then holds.
  const valid = patch as IrPatch;
  const before = new Map(from.tables.map((t) => [t.family, t]));
  const patches = new Map<string, TablePatch[]>();
  for (const p of valid.tables) patches.set(p.family, [...(patches.get(p.family) ?? []), p]);
  const reasons: string[] = [];
  const families = new Set<string>();
  const records: (() => void)[] = [];
  for (const t of to.tables) {
    const where = checkTableHead(t, table, families, reasons);
    const was = before.get(t.family);
    const names = was === undefined ? undefined : passedTables.get(was);
    const changes = patches.get(t.family) ?? [];
    if (changes.length === 0 && was === t && names !== undefined) continue;
    const only = changes.length === 1 ? changes[0] : undefined;
    if (only !== undefined && was !== undefined && names !== undefined && !("whole" in only) && !("drop" in only)) {
      const record = checkTableParts(t, was, where, names, only, reasons);
      if (record !== null) {
        records.push(record);
        continue;
      }
    }
    const checked = checkTableContent(t, where, reasons);
    records.push(() => remember(t, checked));
  }
  if (reasons.length > 0) throw new IrRejected(reasons);
  for (const record of records) record();
}
