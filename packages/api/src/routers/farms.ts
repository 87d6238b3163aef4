import { toNftlb } from "@switchyard/core";
import { z } from "zod";
import { commitChange, committed } from "../config/commit.ts";
import { createFarm, removeFarm, updateFarm } from "../config/edit.ts";
import { currentConfig } from "../config/cache.ts";
import { notFound } from "../errors.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";
import { attributes, changeFields, changeResult, farmName, nftlbObject } from "./change-input.ts";

export const farmsRouter = router({
  /** The desired config in nftlb's form, and the revision it is at (the baseRevision of the next change). */
  list: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/farms", tags: ["farms"], summary: "The desired config and the revision it is at" } })
    .input(z.void())
    .output(z.object({ revision: z.number().int(), farms: z.array(nftlbObject) }))
    .query(async ({ ctx }) => {
    const { config, revision } = await currentConfig(ctx.db);
    return { revision, farms: toNftlb(config).farms };
  }),

  get: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/farms/{name}", tags: ["farms"] } })
    .input(z.object({ name: farmName }))
    .output(z.object({ farm: nftlbObject, updatedRevision: z.number().int() }))
    .query(async ({ ctx, input }) => {
    const { config } = await currentConfig(ctx.db);
    const farm = config.farms.find((f) => f.name === input.name);
    if (farm === undefined) throw notFound(`farm "${input.name}": no such farm`);
    const row = await ctx.db.farm.findUnique({ where: { name: input.name }, select: { updatedRevision: true } });
    return { farm: toNftlb({ farms: [farm] }).farms[0] ?? {}, updatedRevision: row?.updatedRevision ?? 0 };
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

  remove: operatorProcedure
    .meta({ openapi: { method: "DELETE", path: "/farms/{name}", tags: ["farms"] } })
    .input(z.object({ name: farmName, ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "farm.remove" }, (current) => removeFarm(current, input.name)).then(committed(ctx.deployer)),
  ),
});
