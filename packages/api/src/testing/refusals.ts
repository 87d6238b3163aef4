import { TRPCError } from "@trpc/server";
import { expect } from "vitest";
import type { Database } from "@switchyard/db";

// What the router tests check of a refused call: that it was refused as the API refuses (a
// TRPCError, whose code and cause the test reads), and that it wrote nothing.

/** The error a call was refused with; fails the test if the call went through or threw something else. */
export async function refusal(call: Promise<unknown>): Promise<TRPCError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

/** Every farm, backend, revision and audit event, as text: what a refused change must leave as it was. */
export async function everyRow(db: Database): Promise<string> {
  const [farms, backends, revisions, audit] = await Promise.all([
    db.farm.findMany({ orderBy: { id: "asc" } }),
    db.backend.findMany({ orderBy: { id: "asc" } }),
    db.revision.findMany({ orderBy: { number: "asc" } }),
    db.auditEvent.findMany({ orderBy: { id: "asc" } }),
  ]);
  return JSON.stringify({ farms, backends, revisions, audit });
}
