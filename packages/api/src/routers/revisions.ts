import { diffConfigs, toNftlb } from "@switchyard/core";
import { z } from "zod";
import { commitChange, committed } from "../config/commit.ts";
import { rolledBack } from "../config/edit.ts";
import { configOfSnapshot } from "../config/store.ts";
import { notFound } from "../errors.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";
import { changeFields, farmName } from "./change-input.ts";

const summary = { number: true, hash: true, authorName: true, message: true, kind: true, parentNumber: true, createdAt: true } as const;

export const revisionsRouter = router({
  /** Newest first; `before` pages back. */
  list: viewerProcedure.input(z.object({ limit: z.number().int().min(1).max(500).default(50), before: z.number().int().min(1).optional() })).query(({ ctx, input }) =>
    ctx.db.revision.findMany({
      where: input.before === undefined ? {} : { number: { lt: input.before } },
      orderBy: { number: "desc" },
      take: input.limit,
      select: summary,
    }),
  ),

  get: viewerProcedure.input(z.object({ number: z.number().int().min(1) })).query(async ({ ctx, input }) => {
    const row = await ctx.db.revision.findUnique({ where: { number: input.number } });
    if (row === null) throw notFound(`revision ${input.number}: no such revision`);
    const { snapshot, ...rest } = row;
    return { ...rest, config: toNftlb(configOfSnapshot(snapshot)) };
  }),

  /**
   * Makes the config (or one farm of it) what it was at revision `to`, as a new revision:
   * history is append-only, and agents only ever move forward.
   */
  rollback: operatorProcedure.input(z.object({ to: z.number().int().min(1), farm: farmName.optional(), ...changeFields })).mutation(async ({ ctx, input }) => {
    const row = await ctx.db.revision.findUnique({ where: { number: input.to }, select: { snapshot: true } });
    if (row === null) throw notFound(`revision ${input.to}: no such revision`);
    const target = configOfSnapshot(row.snapshot);
    const message = input.message ?? (input.farm === undefined ? `rollback to revision ${input.to}` : `rollback of farm ${input.farm} to revision ${input.to}`);
    return commitChange(ctx.db, ctx.actor, { ...input, message, action: "revision.rollback", kind: "rollback" }, (current) => rolledBack(current, target, input.farm)).then(committed(ctx.deployer));
  }),

  /** What `to` changes in `from`, farm by farm and field by field (0 = the empty config before revision 1). */
  diff: viewerProcedure.input(z.object({ from: z.number().int().min(0), to: z.number().int().min(0) })).query(async ({ ctx, input }) => {
    const load = async (number: number) => {
      if (number === 0) return { farms: [] };
      const row = await ctx.db.revision.findUnique({ where: { number }, select: { snapshot: true } });
      if (row === null) throw notFound(`revision ${number}: no such revision`);
      return configOfSnapshot(row.snapshot);
    };
    const [from, to] = await Promise.all([load(input.from), load(input.to)]);
    return diffConfigs(from, to);
  }),
});
