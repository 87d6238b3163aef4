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
  /** Why the change would be refused, or why the node could not run it; then before, after and diff are empty. */
  issues: ConfigIssue[];
  /** Whether saving would be refused (else the issues are the node's: a dsr farm whose MACs its facts lack). */
  refused: boolean;
}

function refusal(error: unknown): ConfigIssue[] {
  if (error instanceof TRPCError && error.cause instanceof ChangeRefused) return error.cause.issues;
  if (error instanceof TRPCError && error.code === "CONFLICT") return [{ field: "name", message: "is taken: a farm of that name exists" }];
  if (error instanceof ConfigError) return error.issues;
  throw error;
}

/** `name` absent: `farm` is a new farm. */
export async function previewFarm(db: Database, name: string | undefined, farm: Record<string, unknown>): Promise<FarmPreview> {
  const [latest, node] = await Promise.all([latestConfig(db), db.node.findFirst({ orderBy: { id: "asc" }, select: { name: true, facts: true, labels: true } })]);
  const empty = { node: node?.name ?? null, revision: latest.revision, before: "", after: "", diff: "" };
  let next: Config;
  try {
    next = name === undefined ? createFarm(latest.config, farm) : replaceWholeFarm(latest.config, name, farm);
  } catch (error) {
    return { ...empty, issues: refusal(error), refused: true };
  }
  let parts;
  try {
    // Rendering refuses what a node cannot run (a dsr farm whose MACs the node's facts lack).
    const input = node ?? { labels: "{}", facts: null };
    parts = changedParts(latest.ir(input), nodeIr(next, input));
  } catch (error) {
    return { ...empty, issues: refusal(error), refused: false };
  }
  // A table kept only as the frame of its changes renders with an empty line inside; without
  // it, a diff does not show that line going away.
  const render = (ir: typeof parts.before) => renderRuleset(ir).replaceAll("{\n\n}", "{\n}");
  const before = render(parts.before);
  const afterText = render(parts.after);
  const label = node?.name ?? "no node";
  // Without jsdiff's "=====" banner line: the diff starts at its ---/+++ header.
  const diff = before === afterText ? "" : createTwoFilesPatch(`${label} @ revision ${latest.revision}`, `${label} with this change`, before, afterText, undefined, undefined, { context: 3 }).replace(/^=+\n/, "");
  return { ...empty, before, after: afterText, diff, issues: [], refused: false };
}
