import type { z } from "zod";

/** One reason a configuration was refused, located the way an operator reads a config. */
export interface ConfigIssue {
  farm?: string;
  backend?: string;
  field: string;
  value?: unknown;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = [
    issue.farm !== undefined ? `farm "${issue.farm}"` : null,
    issue.backend !== undefined ? `backend "${issue.backend}"` : null,
    issue.field !== "" ? `${issue.field}` : null,
  ].filter((part): part is string => part !== null);
  const value = issue.value === undefined ? "" : ` = ${JSON.stringify(issue.value)}`;
  return `${where.join(", ")}${value}: ${issue.message}`;
}

type Path = readonly PropertyKey[];

function at(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function nameAt(root: unknown, path: Path, index: number): string {
  const entry = at(root, path);
  const name = entry !== null && typeof entry === "object" ? (entry as { name?: unknown }).name : undefined;
  return typeof name === "string" && name !== "" ? name : `#${index + 1}`;
}

/**
 * Turns zod's issues (paths like farms.2.backends.0.weight) into issues that name the farm
 * and the backend as written in the input, with the offending value.
 */
export function toConfigIssues(raw: unknown, zodIssues: readonly z.core.$ZodIssue[], base: Path = []): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const zi of zodIssues) {
    const path: PropertyKey[] = [...base, ...zi.path];
    const issue: Omit<ConfigIssue, "field" | "message"> = {};
    let rest = path;
    if (rest[0] === "farms" && typeof rest[1] === "number") {
      issue.farm = nameAt(raw, rest.slice(0, 2), rest[1]);
      if (rest[2] === "backends" && typeof rest[3] === "number") {
        issue.backend = nameAt(raw, rest.slice(0, 4), rest[3]);
        rest = rest.slice(4);
      } else rest = rest.slice(2);
    }
    if (zi.code === "unrecognized_keys") {
      for (const key of zi.keys) {
        out.push({ ...issue, field: [...rest, key].join("."), value: at(raw, [...path, key]), message: "unknown attribute" });
      }
      continue;
    }
    const field = rest.map(String).join(".");
    const value = at(raw, path);
    out.push({ ...issue, field, ...(value !== undefined && typeof value !== "object" ? { value } : {}), message: messageOf(zi, value) });
  }
  return out;
}

function messageOf(zi: z.core.$ZodIssue, value: unknown): string {
  if (value === undefined && zi.code === "invalid_type") return "is required";
  if (zi.code === "invalid_union" && zi.errors.length > 0) {
    // The union's branches all failed; the first branch's message is the informative one.
    const first = zi.errors.find((branch) => branch.length > 0)?.[0];
    if (first) return first.message;
  }
  return zi.message;
}
