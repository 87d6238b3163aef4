import { diffConfigs, safeParseConfig, type Config, type ConfigDiff } from "@switchyard/core/schemas";
import { parseJsonColumn } from "@/lib/json-field-diff";
import type { AuditEvent } from "./describe-event";

// A farm's audit event (its nftlb JSON before and after) as the same structured diff a revision
// has. null when either side no longer parses (kept under an older schema): the caller falls
// back to the field-by-field diff of the JSON.

function farmConfig(json: string | null): Config | null {
  const value = parseJsonColumn(json);
  if (value === undefined) return { farms: [] };
  const parsed = safeParseConfig({ farms: [value] });
  return parsed.ok ? parsed.config : null;
}

export function farmEventDiff(event: AuditEvent): ConfigDiff | null {
  if (event.entityType !== "farm") return null;
  const [before, after] = [farmConfig(event.before), farmConfig(event.after)];
  return before === null || after === null ? null : diffConfigs(before, after);
}
