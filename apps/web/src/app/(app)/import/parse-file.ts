import { safeParseConfig, type Config, type ConfigIssue } from "@switchyard/core/schemas";

// The file an operator gives, checked in the browser with the schemas the API checks it with.
// Then (import-card) what it would change in the current configuration: the import replaces
// every farm, so the preview says which farms it removes before anything is sent.

export type FileCheck =
  | { state: "empty" }
  | { state: "invalid"; issues: ConfigIssue[] }
  | { state: "valid"; config: Config };

export function checkFile(text: string): FileCheck {
  if (text.trim() === "") return { state: "empty" };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { state: "invalid", issues: [{ field: "", message: `not valid JSON: ${(error as Error).message}` }] };
  }
  const parsed = safeParseConfig(raw);
  if (!parsed.ok) return { state: "invalid", issues: parsed.issues };
  return { state: "valid", config: parsed.config };
}

/** The current configuration as revisions.export gives it (nftlb's form), as the model. */
export function currentConfig(exported: unknown): Config | null {
  const parsed = safeParseConfig(exported);
  return parsed.ok ? parsed.config : null;
}
