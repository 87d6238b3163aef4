import { ConfigError, parseConfig, parseNftlbJson, type Config } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { invalid } from "../errors.ts";
import type { Actor } from "../trpc.ts";
import { commitChange, type ChangeOutcome } from "./commit.ts";

// An nftlb JSON config made the whole desired config, as one revision of kind "import". The
// dashboard, the REST API and bin/switchyard import all come through here, so a file is refused
// (or taken) the same way wherever it is given.

export interface ImportRequest {
  /** The file's text, or the JSON already parsed. */
  config: string | object;
  message?: string | undefined;
  baseRevision?: number | undefined;
}

/** The config a file holds, or a refusal (BAD_REQUEST) naming each farm, field and reason. */
export function parseImport(config: string | object): Config {
  try {
    return typeof config === "string" ? parseNftlbJson(config) : parseConfig(config);
  } catch (error) {
    if (error instanceof ConfigError) throw invalid(error.issues);
    throw error;
  }
}

/**
 * Replaces every farm with those of the file: farms it does not name are removed. Nothing is
 * written when the file is refused; nothing either when it holds the config as it is now.
 */
export async function importConfig(db: Database, actor: Actor, request: ImportRequest): Promise<ChangeOutcome> {
  const config = parseImport(request.config);
  const message = request.message ?? `import of ${config.farms.length} farm${config.farms.length === 1 ? "" : "s"}`;
  return commitChange(db, actor, { action: "config.import", kind: "import", message, baseRevision: request.baseRevision }, () => config);
}
