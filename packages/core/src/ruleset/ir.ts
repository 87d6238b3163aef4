import { z } from "zod";

// The ruleset IR: what the control plane sends to an agent and what the agent diffs
// against what it applied. Tables, chains and maps are structured so that the agent
// composes every table/chain/map command itself; only rule statements travel as text,
// and those are checked before anything reaches nft.

/** A table, chain or map name. */
export const IrIdentifierSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,127}$/, { error: () => "must be an nft identifier" });

const identifier = IrIdentifierSchema;

/** One map element: [key, verdict] in nft syntax. */
export const IrElementSchema = z.tuple([z.string(), z.string()]);

/**
 * What a map's elements map to: a verdict; one of the table's named counters (a rule's
 * `counter name ... map @m`, core's traffic maps before "counted", still read from state dirs);
 * or nothing: "counted" is a set whose elements each carry their own counter (nft's `counter`
 * flag), bumped when a rule's lookup (`... @s`) matches them. A counted element's second slot
 * names the counter it is (`t/FARM/BACKEND`) for the agent's reports; nft never sees it.
 */
export const IrMapValueSchema = z.enum(["verdict", "counter", "counted"]);

export const IrMapSchema = z.strictObject({
  name: identifier,
  /** nft type expression of the key, e.g. "inet_proto . ipv4_addr . inet_service". */
  key: z.string().regex(/^[a-z0-9_]+( \. [a-z0-9_]+)*$/),
  interval: z.boolean(),
  /**
   * Left out for a verdict map, so that an IR from before counter maps parses and hashes as
   * it did; "counter" for a map whose values name counters of the table; "counted" for a set
   * of counting elements.
   */
  value: IrMapValueSchema.optional(),
  /** [key, value] pairs in nft syntax, e.g. ["tcp . 198.18.1.100 . 80", "goto farm-web-4"]; [key, "t/web/b1"] in a counter map or a counted set. */
  elements: z.array(IrElementSchema),
});

export const IrHookSchema = z.strictObject({
  type: z.enum(["nat", "filter"]),
  hook: z.enum(["prerouting", "forward", "postrouting", "ingress"]),
  priority: z.number().int(),
  device: z.string().optional(),
});

export const IrChainSchema = z.strictObject({
  name: identifier,
  hook: IrHookSchema.optional(),
  rules: z.array(z.string()),
});

/**
 * A named counter object (nft `counter NAME`): nft's scanner reads it bare (no quotes), and
 * the kernel keeps names up to 255 bytes. `/` is allowed so that core's counter names
 * (`c/FARM/BACKEND`) can be split back into the farm and backend names, which cannot hold it.
 */
export const COUNTER_NAME = /^[A-Za-z][A-Za-z0-9_./-]{0,254}$/;
const COUNTER_NAME_ERROR = "must be a counter name (a letter, then letters, digits, '_', '.', '/', '-'; at most 255)";

/** 40,000 names at 10,000 farms: one loop over the list rather than a schema per string. */
export const IrCounterNamesSchema = z.array(z.unknown()).superRefine((names, ctx) => {
  names.forEach((name, i) => {
    if (typeof name !== "string" || !COUNTER_NAME.test(name)) ctx.addIssue({ code: "custom", path: [i], message: COUNTER_NAME_ERROR, input: name });
  });
}) as unknown as z.ZodType<string[]>;

export const TableFamilySchema = z.enum(["inet", "netdev"]);

export const IrTableSchema = z.strictObject({
  family: TableFamilySchema,
  name: identifier,
  maps: z.array(IrMapSchema),
  chains: z.array(IrChainSchema),
  /**
   * Named counters, which rules of this table use as `counter name NAME`. Optional, and left
   * out when there are none: an IR from before counters parses and hashes as it did.
   */
  counters: IrCounterNamesSchema.optional(),
});

export const IrRulesetSchema = z.strictObject({
  tables: z.array(IrTableSchema),
});

export type IrMap = z.output<typeof IrMapSchema>;
export type IrMapValue = z.output<typeof IrMapValueSchema>;
export type IrHook = z.output<typeof IrHookSchema>;
export type IrChain = z.output<typeof IrChainSchema>;
export type IrTable = z.output<typeof IrTableSchema>;
export type IrRuleset = z.output<typeof IrRulesetSchema>;
export type TableFamily = IrTable["family"];

/** The families of table an agent owns under its table name. */
export const OWNED_FAMILIES: readonly TableFamily[] = ["inet", "netdev"];

/** The type of a map's values: a verdict unless it says otherwise. */
export const mapValueOf = (map: Pick<IrMap, "value">): IrMapValue => map.value ?? "verdict";

/** Whether two maps have one nft type (key, interval flag, value): one cannot become the other in place. */
export const sameMapType = (a: IrMap, b: IrMap): boolean => a.key === b.key && a.interval === b.interval && mapValueOf(a) === mapValueOf(b);
