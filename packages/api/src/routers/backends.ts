import { STATES } from "@switchyard/core";
import { z } from "zod";
import { commitChange, committed } from "../config/commit.ts";
import { removeBackend, upsertBackend } from "../config/edit.ts";
import { operatorProcedure, router } from "../trpc.ts";
import { attributes, changeFields, changeResult, farmName } from "./change-input.ts";

const backendName = z.string().min(1).max(64);

export const backendsRouter = router({
  /** Adds a backend to a farm, or sets the given attributes of the one of that name. */
  upsert: operatorProcedure
    .meta({ openapi: { method: "PUT", path: "/farms/{farm}/backends", tags: ["backends"], summary: "Adds a backend or sets attributes of the one of that name" } })
    .input(z.object({ farm: farmName, backend: attributes, ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "backend.upsert" }, (current) => upsertBackend(current, input.farm, input.backend)).then(committed(ctx.deployer)),
  ),

  /** up, down or off: what a health checker or an operator's toggle sends. */
  setState: operatorProcedure
    .meta({ openapi: { method: "PUT", path: "/farms/{farm}/backends/{name}/state", tags: ["backends"], summary: "up, down or off (a health checker's call)" } })
    .input(z.object({ farm: farmName, name: backendName, state: z.enum(STATES), ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "backend.state" }, (current) => upsertBackend(current, input.farm, { name: input.name, state: input.state })).then(committed(ctx.deployer)),
  ),

  remove: operatorProcedure
    .meta({ openapi: { method: "DELETE", path: "/farms/{farm}/backends/{name}", tags: ["backends"] } })
    .input(z.object({ farm: farmName, name: backendName, ...changeFields }))
    .output(changeResult)
    .mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "backend.remove" }, (current) => removeBackend(current, input.farm, input.name)).then(committed(ctx.deployer)),
  ),
});
