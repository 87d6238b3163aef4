import { TRPCClientError } from "@trpc/client";

/** A field's path ("backends.0.address") → the API's reason, from a refused change or bad input. */
export type FieldErrors = Record<string, string>;

interface ErrorData {
  code?: string;
  httpStatus?: number;
  issues?: { path: (string | number)[]; message: string }[];
  /** The procedure's own input schema's refusals: the API sends each field as a dotted path. */
  fields?: { field: string; message: string }[];
  conflict?: { author: string; revision: number } | null;
}

export function errorData(error: unknown): ErrorData {
  return error instanceof TRPCClientError ? ((error.data ?? {}) as ErrorData) : {};
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isUnauthorized(error: unknown): boolean {
  return errorData(error).code === "UNAUTHORIZED";
}

/** The per-field reasons the API gave, keyed by dotted path. */
export function fieldErrors(error: unknown): FieldErrors {
  const data = errorData(error);
  const out: FieldErrors = {};
  for (const issue of data.issues ?? []) out[issue.path.join(".")] ??= issue.message;
  for (const field of data.fields ?? []) out[field.field] ??= field.message;
  return out;
}
