import { diffConfigs, renderRuleset, toNftlb, type Config } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { nodeIr } from "../deploy/render.ts";
import { z } from "zod";
import { commitChange, committed } from "../config/commit.ts";
import { rolledBack } from "../config/edit.ts";
import { configAt as configOf } from "../config/cache.ts";
import { importConfig } from "../config/import.ts";
import { revisionChanges } from "../config/revision-changes.ts";
import { rulesetDiff } from "../config/ruleset-diff.ts";
import { readRevisionConfig } from "../config/revision-store.ts";
import { notFound } from "../errors.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";
import { changeFields, changeResult, farmName, nftlbObject } from "./change-input.ts";

const revisionSummary = z.object({
  number: z.number().int(),
  hash: z.string(),
  authorName: z.string(),
  message: z.string(),
  kind: z.string(),
  parentNumber: z.number().int().nullable(),
  createdAt: z.date(),
});
const fieldChange = z.object({ field: z.string(), before: z.string(), after: z.string() });
const farmDiff = z.object({
  name: z.string(),
  change: z.enum(["added", "removed", "changed"]),
  fields: z.array(fieldChange),
  backends: z.array(z.object({ name: z.string(), change: z.enum(["added", "removed", "changed"]), fields: z.array(fieldChange) })),
});
const configDiff = z.object({ farms: z.array(farmDiff) });
/** What a revision changed in its parent, in brief: farms counted, and the first few in full. */
const revisionChangesSchema = z.object({ added: z.number().int(), removed: z.number().int(), changed: z.number().int(), farms: z.array(farmDiff) });
const nftlbConfig = z.object({ farms: z.array(nftlbObject) });
const revisionNumber = z.coerce.number().int().min(1);

/** The config at a revision; 0 is the empty config before revision 1. */
async function configAt(db: Database, number: number): Promise<Config> {
  const config = await configOf(db, number);
  if (config === null) throw notFound(`revision ${number}: no such revision`);
  return config;
}

const summary = { number: true, hash: true, authorName: true, message: true, kind: true, parentNumber: true, createdAt: true } as const;

export const revisionsRouter = router({
  /** Newest first; `before` pages back. Each with what it changed in its parent, in brief. */
  list: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/revisions", tags: ["revisions"], summary: "Newest first, each with what it changed (farms counted, the first few in full)" } })
    .input(z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), before: z.coerce.number().int().min(1).optional() }))
    .output(z.array(revisionSummary.extend({ changes: revisionChangesSchema })))
    .query(async ({ ctx, input }) => {
      const rows = await ctx.db.revision.findMany({
        where: input.before === undefined ? {} : { number: { lt: input.before } },
        orderBy: { number: "desc" },
        take: input.limit,
        select: summary,
      });
      const changes = await revisionChanges(ctx.db, rows.map((r) => r.number));
      return rows.map((r) => ({ ...r, changes: changes.get(r.number) ?? { added: 0, removed: 0, changed: 0, farms: [] } }));
    }),

  get: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/revisions/{number}", tags: ["revisions"] } })
    .input(z.object({ number: revisionNumber }))
    .output(revisionSummary.extend({ id: z.number().int(), authorId: z.number().int().nullable(), config: z.object({ farms: z.array(nftlbObject) }) }))
    .query(async ({ ctx, input }) => {
    const row = await ctx.db.revision.findUnique({ where: { number: input.number }, omit: { snapshot: true, delta: true } });
    const config = await readRevisionConfig(ctx.db, input.number);
    if (row === null || config === null) throw notFound(`revision ${input.number}: no such revision`);
    return { ...row, config: toNftlb(config) };
  }),

  /**
   * Makes the config (or one farm of it) what it was at revision `to`, as a new revision:
   * history is append-only, and agents only ever move forward.
   */
  rollback: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/revisions/rollback", tags: ["revisions"], summary: "The config (or one farm) as it was at a revision, as a new revision" } })
    .input(z.object({ to: z.number().int().min(1), farm: farmName.optional(), ...changeFields }))
    .output(changeResult)
    .mutation(async ({ ctx, input }) => {
    const target = await readRevisionConfig(ctx.db, input.to);
    if (target === null) throw notFound(`revision ${input.to}: no such revision`);
    const message = input.message ?? (input.farm === undefined ? `rollback to revision ${input.to}` : `rollback of farm ${input.farm} to revision ${input.to}`);
    return commitChange(ctx.db, ctx.actor, { ...input, message, action: "revision.rollback", kind: "rollback" }, (current) => rolledBack(current, target, input.farm)).then(committed(ctx.deployer));
  }),

  /**
   * The nft ruleset a node runs at revision `from` and at `to`, rendered with the node's facts,
   * and a unified diff of the two: what a change or a rollback does to that node's kernel.
   */
  renderedDiff: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/revisions/{to}/nodes/{node}/ruleset-diff", tags: ["revisions"], summary: "A node's nft ruleset at two revisions, and their unified diff" } })
    .input(z.object({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0), node: z.string().min(1) }))
    .output(z.object({ before: z.string(), after: z.string(), diff: z.string() }))
    .query(async ({ ctx, input }) => {
      // Labels are not versioned: both sides place farms by the node's labels of now.
      const node = await ctx.db.node.findUnique({ where: { name: input.node }, select: { facts: true, labels: true } });
      if (node === null) throw notFound(`node "${input.node}": no such node`);
      const [before, after] = (await Promise.all([configAt(ctx.db, input.from), configAt(ctx.db, input.to)])).map((config) => renderRuleset(nodeIr(config, node))) as [string, string];
      return { before, after, diff: rulesetDiff(`${input.node}@${input.from}`, `${input.node}@${input.to}`, before, after) };
    }),

  /** What `to` changes in `from`, farm by farm and field by field (0 = the empty config before revision 1). */
  diff: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/revisions/{to}/diff", tags: ["revisions"], summary: "What revision `to` changes in revision `from` (0: the empty config)" } })
    .input(z.object({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0) }))
    .output(configDiff)
    .query(async ({ ctx, input }) => {
    const [from, to] = await Promise.all([configAt(ctx.db, input.from), configAt(ctx.db, input.to)]);
    return diffConfigs(from, to);
  }),

  /**
   * An nftlb JSON config (the file's text, or the object) made the whole desired config, as a
   * revision of kind "import": farms it does not name are removed. A refused file writes
   * nothing; the refusal names each farm, backend, field and reason (data.issues).
   */
  import: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/import", tags: ["revisions"], summary: "An nftlb JSON config as the whole desired config (a new revision of kind import), then deployed" } })
    .input(z.object({ config: z.union([z.string().min(1), z.record(z.string(), z.unknown())]), ...changeFields }))
    .output(changeResult.extend({ farms: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      const outcome = await importConfig(ctx.db, ctx.actor, input);
      return { ...committed(ctx.deployer)(outcome), farms: outcome.config.farms.length };
    }),

  /** A revision (default: the latest) as an nftlb JSON config, as nftlb and bin/switchyard import read it. */
  export: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/export", tags: ["revisions"], summary: "A revision (default: the latest) as an nftlb JSON config" } })
    .input(z.object({ revision: z.coerce.number().int().min(1).optional() }))
    .output(nftlbConfig)
    .query(async ({ ctx, input }) => {
      const number = input.revision ?? (await ctx.db.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } }))?.number;
      const config = number === undefined ? null : await readRevisionConfig(ctx.db, number);
      if (config === null) throw notFound(input.revision === undefined ? "there is no revision yet" : `revision ${input.revision}: no such revision`);
      return toNftlb(config);
    }),
});
