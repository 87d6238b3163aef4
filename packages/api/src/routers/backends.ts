import { STATES } from "@switchyard/core";
import { z } from "zod";
import { commitChange, committed } from "../config/commit.ts";
import { removeBackend, upsertBackend } from "../config/edit.ts";
import { operatorProcedure, router } from "../trpc.ts";
import { attributes, changeFields, farmName } from "./change-input.ts";

const backendName = z.string().min(1).max(64);

export const backendsRouter = router({
  /** Adds a backend to a farm, or sets the given attributes of the one of that name. */
  upsert: operatorProcedure.input(z.object({ farm: farmName, backend: attributes, ...changeFields })).mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "backend.upsert" }, (current) => upsertBackend(current, input.farm, input.backend)).then(committed(ctx.deployer)),
  ),

  /** up, down or off: what a health checker or an operator's toggle sends. */
  setState: operatorProcedure.input(z.object({ farm: farmName, name: backendName, state: z.enum(STATES), ...changeFields })).mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "backend.state" }, (current) => upsertBackend(current, input.farm, { name: input.name, state: input.state })).then(committed(ctx.deployer)),
  ),

  remove: operatorProcedure.input(z.object({ farm: farmName, name: backendName, ...changeFields })).mutation(({ ctx, input }) =>
    commitChange(ctx.db, ctx.actor, { ...input, action: "backend.remove" }, (current) => removeBackend(current, input.farm, input.name)).then(committed(ctx.deployer)),
  ),
});
