import { TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { formatIssue, type ConfigIssue } from "@switchyard/core";

/** A change that was refused, with the reasons a form can place under its fields. */
export class ChangeRefused extends Error {
  constructor(
    message: string,
    readonly issues: ConfigIssue[] = [],
    readonly conflict?: { revision: number; author: string; at: string },
  ) {
    super(message);
    this.name = "ChangeRefused";
  }
}

export function invalid(issues: ConfigIssue[]): TRPCError {
  return new TRPCError({ code: "BAD_REQUEST", message: issues.map(formatIssue).join("; "), cause: new ChangeRefused("invalid", issues) });
}

export function notFound(what: string): TRPCError {
  return new TRPCError({ code: "NOT_FOUND", message: what });
}

/** An input the procedure's own schema refused, as "field: reason; …" (tRPC's message would be the issues as JSON). */
export function inputIssues(error: TRPCError): { field: string; message: string }[] | null {
  if (!(error.cause instanceof ZodError)) return null;
  return error.cause.issues.map((issue) => ({ field: issue.path.join(".") || "input", message: issue.message }));
}

/** What an operator reads for a refused call. */
export function describeError(error: TRPCError): string {
  const issues = inputIssues(error);
  return issues === null ? error.message : issues.map((i) => `${i.field}: ${i.message}`).join("; ");
}
