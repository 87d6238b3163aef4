import { changedParts, ConfigError, renderRuleset, type Config, type ConfigIssue } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { TRPCError } from "@trpc/server";
import { createTwoFilesPatch } from "diff";
import { createFarm, replaceWholeFarm } from "../config/edit.ts";
import { latestConfig } from "../config/latest.ts";
import { ChangeRefused } from "../errors.ts";
import { nodeIr } from "./render.ts";

// What saving a farm would do to a node's nft ruleset, before it is saved: the latest config
// and the config with this farm changed (or added), both rendered with one node's facts, cut
// down to the chains, map elements and counters that differ, and the diff of the two.

export interface FarmPreview {
  /** The node whose facts rendered it; null when there is no node (rendered without facts). */
  node: string | null;
  /** The revision the change was previewed against (the next save's baseRevision). */
  revision: number;
  /** The parts of the ruleset this change touches, as they are now, and as they would be. */
  before: string;
  after: string;
  diff: string;
  /** Why the change would be refused; then before, after and diff are empty. */
  issues: ConfigIssue[];
}

function refusal(error: unknown): ConfigIssue[] {
  if (error instanceof TRPCError && error.cause instanceof ChangeRefused) return error.cause.issues;
  if (error instanceof TRPCError && error.code === "CONFLICT") return [{ field: "name", message: "is taken: a farm of that name exists" }];
  if (error instanceof ConfigError) return error.issues;
  throw error;
}

/** `name` absent: `farm` is a new farm. */
export async function previewFarm(db: Database, name: string | undefined, farm: Record<string, unknown>): Promise<FarmPreview> {
  const [latest, node] = await Promise.all([latestConfig(db), db.node.findFirst({ orderBy: { id: "asc" }, select: { name: true, facts: true } })]);
  const empty = { node: node?.name ?? null, revision: latest.revision, before: "", after: "", diff: "" };
  let parts;
  try {
    const next: Config = name === undefined ? createFarm(latest.config, farm) : replaceWholeFarm(latest.config, name, farm);
    // Rendering refuses what a node cannot run (a dsr farm whose MACs the node's facts lack).
    parts = changedParts(latest.ir(node?.facts ?? null), nodeIr(next, node?.facts ?? null));
  } catch (error) {
    return { ...empty, issues: refusal(error) };
  }
  const before = renderRuleset(parts.before);
  const afterText = renderRuleset(parts.after);
  const label = node?.name ?? "no node";
  // Without jsdiff's "=====" banner line: the diff starts at its ---/+++ header.
  const diff = before === afterText ? "" : createTwoFilesPatch(`${label} @ revision ${latest.revision}`, `${label} with this change`, before, afterText, undefined, undefined, { context: 3 }).replace(/^=+\n/, "");
  return { ...empty, before, after: afterText, diff, issues: [] };
}
