import { TRPCError } from "@trpc/server";
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
