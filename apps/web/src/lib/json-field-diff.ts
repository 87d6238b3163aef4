import type { FieldChange } from "@switchyard/core/schemas";

// A field-level diff of two JSON documents (an audit event's before and after) for entities
// that have no structured diff of their own (users, tokens, nodes): nested keys are joined with
// dots, and a list of named objects (backends, say) is keyed by name rather than position.

type Flat = Record<string, string>;

function flatten(value: unknown, prefix: string, out: Flat): Flat {
  if (value === null || typeof value !== "object") {
    if (value !== undefined) out[prefix] = typeof value === "string" ? value : JSON.stringify(value);
    return out;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) out[prefix] = "[]";
    value.forEach((item, i) => {
      const name = item !== null && typeof item === "object" && typeof (item as { name?: unknown }).name === "string" ? (item as { name: string }).name : String(i);
      flatten(item, `${prefix}[${name}]`, out);
    });
    return out;
  }
  for (const [key, item] of Object.entries(value)) flatten(item, prefix === "" ? key : `${prefix}.${key}`, out);
  return out;
}

/** Parses an audit event's JSON column; text that is not JSON is kept as one value. */
export function parseJsonColumn(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function jsonFieldDiff(before: unknown, after: unknown): FieldChange[] {
  const a = flatten(before, "", {});
  const b = flatten(after, "", {});
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => a[k] !== b[k])
    .map((k) => ({ field: k === "" ? "value" : k, before: a[k] ?? "", after: b[k] ?? "" }));
}
