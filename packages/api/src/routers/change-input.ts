import { z } from "zod";

/** What every change carries besides its own input: the revision it was based on and why it is made. */
export const changeFields = {
  baseRevision: z.number().int().min(0).optional(),
  message: z.string().max(1000).optional(),
};

/** Attributes in nftlb's form (strings or numbers); core's schemas check them. */
export const attributes = z.record(z.string(), z.unknown());

export const farmName = z.string().min(1).max(64);

/** What every change answers. */
export const changeResult = z.object({ revision: z.number().int(), changed: z.boolean() });

/** A farm or backend in nftlb's form, as the API returns it. */
export const nftlbObject = z.record(z.string(), z.unknown());
