import { z } from "zod";
import type { Config } from "./farm.ts";

// Where a farm runs in a fleet: a label selector such as "role=edge,zone=a". A node matches
// when it has every key=value of the selector; no selector (absent, or empty) is every node.
// Only equality, joined by AND: enough to place farms on node groups, and a selector's
// meaning stays obvious when it is read in a diff.
//
// The selector is part of the desired config (revisions, hashes, diffs, rollback), in nftlb's
// JSON as the extra farm attribute "x-placement" (a string, as nftlb writes every value). The
// kernel rules of a farm do not depend on it: it only decides which nodes get the farm.

/** The nftlb JSON attribute (and model key) that holds a farm's placement. */
export const PLACEMENT_ATTRIBUTE = "x-placement";

/** A label key: letters and digits at both ends, '_', '.', '-' and '/' inside (so "topology/zone" fits). */
const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9_./-]{0,61}[A-Za-z0-9])?$/;
/** A label value: letters and digits at both ends, '_', '.', '-' inside. */
const LABEL_VALUE = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

export const MAX_LABELS = 64;

const KEY_RULE = "1-63 letters, digits, '_', '.', '-' or '/', starting and ending with a letter or digit";
const VALUE_RULE = "1-63 letters, digits, '_', '.' or '-', starting and ending with a letter or digit";

/** A node's labels, and a selector's required labels: key → value. */
export type Labels = Readonly<Record<string, string>>;

/** The labels a node must have for a farm to be placed on it (keys sorted). */
export type Placement = Labels;

/** Why a label key is not one, or null. */
export function labelKeyProblem(key: string): string | null {
  return LABEL_KEY.test(key) ? null : `label key ${JSON.stringify(key)} must be ${KEY_RULE}`;
}

/** Why a label value is not one, or null. */
export function labelValueProblem(key: string, value: string): string | null {
  return LABEL_VALUE.test(value) ? null : `the value ${JSON.stringify(value)} of label ${key} must be ${VALUE_RULE}`;
}

function sorted(entries: [string, string][]): Placement {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export type PlacementParse = { ok: true; placement: Placement | undefined } | { ok: false; reason: string };

/**
 * Reads a selector ("role=edge,zone=a"; spaces around terms allowed). The empty selector is
 * undefined: every node. A key given twice with two values could never match, so it is refused.
 */
export function parsePlacement(text: string): PlacementParse {
  if (text.trim() === "") return { ok: true, placement: undefined };
  const found = new Map<string, string>();
  for (const raw of text.split(",")) {
    const term = raw.trim();
    if (term === "") return { ok: false, reason: "has an empty term (two commas in a row, or a comma at an end); write key=value,key=value" };
    const eq = term.indexOf("=");
    if (eq < 0 || term.indexOf("=", eq + 1) >= 0) return { ok: false, reason: `${JSON.stringify(term)} is not key=value (a node matches when it has every key=value, e.g. role=edge,zone=a)` };
    const key = term.slice(0, eq).trim();
    const value = term.slice(eq + 1).trim();
    const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
    if (problem !== null) return { ok: false, reason: problem };
    const before = found.get(key);
    if (before !== undefined && before !== value) {
      return { ok: false, reason: `gives label ${key} twice (${before} and ${value}): a node has one value per label, so no node could match` };
    }
    found.set(key, value);
  }
  if (found.size > MAX_LABELS) return { ok: false, reason: `has ${found.size} labels; at most ${MAX_LABELS}` };
  return { ok: true, placement: sorted([...found]) };
}

/** The selector's text: keys sorted, no spaces ("role=edge,zone=a"). */
export function formatPlacement(placement: Placement): string {
  return Object.keys(placement)
    .sort()
    .map((key) => `${key}=${placement[key]}`)
    .join(",");
}

/** Whether a node with these labels gets a farm of this placement (none: every node). */
export function placementMatches(placement: Placement | undefined, labels: Labels): boolean {
  if (placement === undefined) return true;
  for (const key in placement) if (!Object.hasOwn(labels, key) || labels[key] !== placement[key]) return false;
  return true;
}

/**
 * The farms of `config` placed on a node with these labels, in their order (the config itself
 * when that is every farm, so that what is built from it can be cached by identity).
 */
export function configForNode(config: Config, labels: Labels): Config {
  const farms = config.farms.filter((farm) => placementMatches(farm[PLACEMENT_ATTRIBUTE], labels));
  return farms.length === config.farms.length ? config : { farms };
}

/** A farm's "x-placement" in nftlb's JSON: a selector string; "" (or absent) is every node. */
export const PlacementSchema = z.string({ error: () => "must be a label selector such as \"role=edge,zone=a\" (a string; empty: every node)" }).transform((text, ctx) => {
  const parsed = parsePlacement(text);
  if (!parsed.ok) {
    ctx.addIssue({ code: "custom", message: parsed.reason });
    return z.NEVER;
  }
  return parsed.placement;
});

/** A node's labels, as the control plane keeps them: each one selectable by a placement. */
export const LabelsSchema = z
  .record(z.string(), z.string({ error: () => "must be a string" }))
  .superRefine((labels, ctx) => {
    const keys = Object.keys(labels);
    if (keys.length > MAX_LABELS) ctx.addIssue({ code: "custom", message: `has ${keys.length} labels; at most ${MAX_LABELS}` });
    for (const key of keys) {
      const problem = labelKeyProblem(key) ?? labelValueProblem(key, labels[key] as string);
      if (problem !== null) ctx.addIssue({ code: "custom", path: [key], message: problem });
    }
  })
  .transform((labels): Labels => sorted(Object.entries(labels)));
