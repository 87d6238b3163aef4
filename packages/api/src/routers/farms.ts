import { STATES } from "@switchyard/core";
import { z } from "zod";
import { commitChange, committed } from "../config/commit.ts";
import { createFarm, removeFarm, replaceWholeFarm, setFarmStates, updateFarm } from "../config/edit.ts";
import { farmMatcher, farmPageInput, farmSummary, sortFarms, stateCounts } from "../config/farm-summaries.ts";
import { latestConfig } from "../config/latest.ts";
import { previewFarm } from "../deploy/preview.ts";
import { notFound } from "../errors.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";
import { attributes, changeFields, changeResult, farmName, nftlbObject } from "./change-input.ts";

const configIssue = z.object({ farm: z.string().optional(), backend: z.string().optional(), field: z.string(), message: z.string() });

export const farmsRouter = router({
  /** The desired config in nftlb's form, and the revision it is at (the baseRevision of the next change). */
  list: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/farms", tags: ["farms"], summary: "The desired config and the revision it is at" } })
    .input(z.void())
    .output(z.object({ revision: z.number().int(), farms: z.array(nftlbObject) }))
    .query(async ({ ctx }) => {
    const latest = await latestConfig(ctx.db);
    return { revision: latest.revision, farms: latest.nftlb.farms };
  }),

  /**
   * One page of the farms table: searched (name or virtual address), filtered, sorted and cut
   * on the server, from a summary kept per revision; `total` counts the farms that match.
   */
  page: viewerProcedure
    .input(farmPageInput)
    .output(
      z.object({
        revision: z.number().int(),
        total: z.number().int(),
        /** Every farm, whatever the filters, and how many are in each state. */
        all: z.number().int(),
        states: z.object({ up: z.number().int(), down: z.number().int(), off: z.number().int() }),
        offset: z.number().int(),
        rows: z.array(farmSummary),
      }),
    )
    .query(async ({ ctx, input }) => {
    const latest = await latestConfig(ctx.db);
    const matching = latest.sorted(input.sort, (rows) => sortFarms(rows, input.sort)).filter(farmMatcher(input));
    return {
      revision: latest.revision,
      total: matching.length,
      all: latest.summaries.length,
      states: stateCounts(latest.summaries),
      offset: input.offset,
      rows: matching.slice(input.offset, input.offset + input.limit),
    };
  }),

  /**
   * A farm in nftlb's form; `revision` is the one it was read at (the baseRevision of its next
   * change), `updatedRevision` the one that last changed it.
   */
  get: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/farms/{name}", tags: ["farms"] } })
    .input(z.object({ name: farmName }))
    .output(z.object({ farm: nftlbObject, revision: z.number().int(), updatedRevision: z.number().int() }))
    .query(async ({ ctx, input }) => {
    const latest = await latestConfig(ctx.db);
    const farm = latest.nftlb.farms.find((f) => f.name === input.name);
    if (farm === undefined) throw notFound(`farm "${input.name}": no such farm`);
    const row = await ctx.db.farm.findUnique({ where: { name: input.name }, select: { updatedRevision: true } });
    return { farm, revision: latest.revision, updatedRevision: row?.updatedRevision ?? latest.revision };
  }),

  /**
   * What saving `farm` (a new one, or the one called `name`) would do to a node's nft ruleset:
   * the parts that change, before and after, and their diff; or why it would be refused
   * (refused) or why the node could not run it.
   * Rendered with the first node's facts (none without nodes). A mutation only so that it travels
   * in a POST body: a farm of many backends does not fit in a URL. It writes nothing.
   */
  preview: viewerProcedure
    .input(z.object({ name: farmName.optional(), farm: attributes }))
    .output(z.object({ node: z.string().nullable(), revision: z.number().int(), before: z.string(), after: z.string(), diff: z.string(), issues: z.array(configIssue), refused: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
    const preview = await previewFarm(ctx.db, input.name, input.farm);
    return { ...preview, issues: preview.issues.map(({ farm, backend, field, message }) => ({ ...(farm !== undefined ? { farm } : {}), ...(backend !== undefined ? { backend } : {}), field, message })) };
  }),

  create: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/farms", tags: ["farms"], summary: "Creates a farm (nftlb attributes, backends included)" } })
    .input(z.object({ farm: attributes, ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "farm.create" }, (current) => createFarm(current, input.farm)).then(committed(ctx.deployer)),
  ),

  update: operatorProcedure
    .meta({ openapi: { method: "PATCH", path: "/farms/{name}", tags: ["farms"], summary: "Sets the given attributes of a farm" } })
    .input(z.object({ name: farmName, attributes, ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "farm.update" }, (current) => updateFarm(current, input.name, input.attributes)).then(committed(ctx.deployer)),
  ),

  /** Replaces a farm whole, its backends included (the dashboard's editor saves this way: one revision). */
  replace: operatorProcedure
    .meta({ openapi: { method: "PUT", path: "/farms/{name}", tags: ["farms"], summary: "Replaces a farm whole, backends included (its name stays)" } })
    .input(z.object({ name: farmName, farm: attributes, ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "farm.update" }, (current) => replaceWholeFarm(current, input.name, input.farm)).then(committed(ctx.deployer)),
  ),

  /** Puts farms up, down or off, as one revision; a name that does not exist refuses the whole change. */
  setStates: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/farms/states", tags: ["farms"], summary: "Puts farms up, down or off as one revision" } })
    .input(z.object({ names: z.array(farmName).min(1).max(10_000), state: z.enum(STATES), ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "farm.state" }, (current) => setFarmStates(current, input.names, input.state)).then(committed(ctx.deployer)),
  ),

  remove: operatorProcedure
    .meta({ openapi: { method: "DELETE", path: "/farms/{name}", tags: ["farms"] } })
    .input(z.object({ name: farmName, ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "farm.remove" }, (current) => removeFarm(current, input.name)).then(committed(ctx.deployer)),
  ),
});
