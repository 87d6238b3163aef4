import { mkdir, open, readdir, readFile, rename, stat, unlink, chmod } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { formatIssue, IrRulesetSchema, safeParseConfig, toNftlb, type Config, type IrRuleset } from "@switchyard/core";
import { SerialQueue } from "../serial-queue.ts";

// The agent's local state: what it last applied, so that a restart puts the same rules back
// before it serves anything. One file, replaced atomically through one writer queue.

export const STATE_FILE = "state.json";
export const STATE_VERSION = 1;

/** What the agent last applied: the config it came from (standalone mode) and the ruleset. */
export interface AgentState {
  config: Config;
  ir: IrRuleset;
  /** ISO time of the apply. */
  appliedAt: string;
  /** Managed mode: the control plane's revision and hash of `ir` (absent in standalone state). */
  managed?: ManagedRevision;
}

export interface ManagedRevision {
  revision: number;
  hash: string;
}

const StateFileSchema = z.strictObject({
  version: z.literal(STATE_VERSION, { error: () => `must be ${STATE_VERSION}` }),
  config: z.unknown(),
  ir: IrRulesetSchema,
  appliedAt: z.string(),
  // Added with managed mode; optional so that files written before it stay readable.
  managed: z.strictObject({ revision: z.number().int().min(1), hash: z.string() }).optional(),
});

/** The state dir cannot be used: unreadable, corrupt, of another version, not a directory. */
export class StateError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = "StateError";
  }
}

/** Said with every unusable state file: why the agent stops instead of starting empty. */
const KEEP_RULES = "; the agent does not start without its last applied state (that would wipe the rules in the kernel): repair or remove the file";

const TEMP_MARK = ".tmp-";
let tempCounter = 0;

/**
 * Replaces `dir/name` with `data` so that a crash at any point leaves either the old file or
 * the new one, never a mix: write a temp file in the same directory, fsync it, rename it over
 * the target, fsync the directory (so that the rename itself is on disk).
 */
export async function writeFileAtomic(dir: string, name: string, data: string): Promise<void> {
  const target = join(dir, name);
  const temp = join(dir, `.${name}${TEMP_MARK}${process.pid}-${++tempCounter}`);
  const file = await open(temp, "wx", 0o600);
  try {
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

export class StateDir {
  readonly file: string;
  private readonly writes = new SerialQueue();

  constructor(readonly dir: string) {
    this.file = join(dir, STATE_FILE);
  }

  /**
   * Creates the directory (mode 0700) if it is missing and removes temp files that a crash
   * between write and rename left behind: the state file beside them is still the last
   * complete one.
   */
  async open(): Promise<void> {
    try {
      const created = await mkdir(this.dir, { recursive: true, mode: 0o700 });
      if (created !== undefined) await chmod(this.dir, 0o700);
      const info = await stat(this.dir);
      if (!info.isDirectory()) throw new Error("not a directory");
      for (const entry of await readdir(this.dir)) {
        if (entry.startsWith(`.${STATE_FILE}${TEMP_MARK}`)) await unlink(join(this.dir, entry));
      }
    } catch (error) {
      throw new StateError(this.dir, `cannot use it as the state directory: ${describe(error)}`);
    }
  }

  /** The last saved state, or null when none was ever saved. Anything unreadable throws. */
  async load(): Promise<AgentState | null> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new StateError(this.file, `cannot read the state file: ${describe(error)}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new StateError(this.file, `the state file is corrupt (not valid JSON: ${(error as Error).message})${KEEP_RULES}`);
    }
    const parsed = StateFileSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StateError(this.file, `the state file is corrupt (${issue ? `${issue.path.join(".") || "top level"}: ${issue.message}` : "invalid"})${KEEP_RULES}`);
    }
    const config = safeParseConfig(parsed.data.config);
    if (!config.ok) {
      throw new StateError(this.file, `the state file's config is invalid: ${config.issues.map(formatIssue).join("; ")}${KEEP_RULES}`);
    }
    const state: AgentState = { config: config.config, ir: parsed.data.ir, appliedAt: parsed.data.appliedAt };
    if (parsed.data.managed !== undefined) state.managed = parsed.data.managed;
    return state;
  }

  /** Queues a save; saves happen one at a time, in order. */
  save(state: AgentState): Promise<void> {
    const file = { version: STATE_VERSION, config: toNftlb(state.config), ir: state.ir, appliedAt: state.appliedAt, managed: state.managed };
    const text = `${JSON.stringify(file, null, 2)}\n`;
    return this.writes.run(() => writeFileAtomic(this.dir, STATE_FILE, text));
  }

  /** Waits for every queued save. */
  flush(): Promise<void> {
    return this.writes.idle();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
