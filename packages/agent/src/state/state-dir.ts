import { mkdir, open, readdir, readFile, rename, stat, unlink, chmod, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import {
  diffIr,
  diffNamed,
  farmNamed,
  farmPosition,
  farmToNftlb,
  formatIssue,
  IrRulesetSchema,
  patchIr,
  patchNamed,
  safeParseConfig,
  toNftlb,
  type Config,
  type Farm,
  type IrPatch,
  type IrRuleset,
  type NamedListPatch,
  type NftlbFarm,
} from "@switchyard/core";
import { SerialQueue } from "../serial-queue.ts";

// The agent's local state: what it last applied, so that a restart puts the same rules back
// before it serves anything. A snapshot (state.json, replaced atomically) and a journal of
// the changes since (journal.ndjson, one line per save, appended and fsynced): at 10,000 farms
// a snapshot is 9 MB and 45 ms to write; a one-backend change is a line of a few hundred bytes.
// Every SNAPSHOT_EVERY lines (or JOURNAL_MAX_BYTES) a new snapshot starts a new generation;
// journal lines carry theirs, so that lines of an older generation are never replayed.

export const STATE_FILE = "state.json";
export const JOURNAL_FILE = "journal.ndjson";
export const STATE_VERSION = 1;
export const SNAPSHOT_EVERY = 200;
export const JOURNAL_MAX_BYTES = 8 * 1024 * 1024;

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
  // Added with the journal: files without it are generation 0 and have no journal lines.
  generation: z.number().int().min(0).optional(),
});

/** One save, as a journal line records it: what changed since the save before. */
interface StatePatch {
  appliedAt: string;
  managed: ManagedRevision | null;
  farms?: NamedListPatch<NftlbFarm>;
  ir?: IrPatch;
}

interface JournalLine {
  generation: number;
  seq: number;
  patch: StatePatch;
}

/** The state as saved (what the next save's journal line is a change from). */
interface Saved {
  state: AgentState;
}

/**
 * What a save changes, known before it (standalone mode's lane for a change of a few farms):
 * the state it changes (the one saved last, or the hint is ignored), the names of the farms
 * added, changed or removed (every other farm the same object), and the IR patch. The journal
 * line is then written without comparing 10,000 farms and their chains.
 */
export interface SaveHint {
  from: { config: Config; ir: IrRuleset };
  changed: readonly string[];
  ir: IrPatch;
}

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
  readonly journalFile: string;
  private readonly writes = new SerialQueue();
  /** What the files hold now; null until loaded or saved (the next save is then a snapshot). */
  private saved: Saved | null = null;
  private generation = 0;
  private seq = 0;
  private journalBytes = 0;
  private journal: FileHandle | null = null;

  constructor(readonly dir: string) {
    this.file = join(dir, STATE_FILE);
    this.journalFile = join(dir, JOURNAL_FILE);
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

  /** The last saved state (snapshot and journal), or null when none was ever saved. Anything unreadable throws. */
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
    const generation = parsed.data.generation ?? 0;
    let farms = ((parsed.data.config as { farms?: unknown } | null)?.farms ?? []) as NftlbFarm[];
    let ir = parsed.data.ir;
    let appliedAt = parsed.data.appliedAt;
    let managed = parsed.data.managed ?? null;
    const lines = await this.readJournal(generation);
    for (const { patch, seq } of lines) {
      try {
        if (patch.farms !== undefined) farms = patchNamed(farms as (NftlbFarm & { name: string })[], patch.farms as NamedListPatch<NftlbFarm & { name: string }>, "farm");
        if (patch.ir !== undefined) ir = patchIr(ir, patch.ir);
      } catch (error) {
        throw new StateError(this.journalFile, `journal line ${seq} does not fit the state before it (${describe(error)})${KEEP_RULES}`);
      }
      appliedAt = patch.appliedAt;
      managed = patch.managed;
    }
    const config = safeParseConfig({ farms });
    if (!config.ok) {
      throw new StateError(this.file, `the state file's config is invalid: ${config.issues.map(formatIssue).join("; ")}${KEEP_RULES}`);
    }
    if (lines.length > 0) {
      const checked = IrRulesetSchema.safeParse(ir);
      if (!checked.success) throw new StateError(this.journalFile, `the journal leads to an invalid ruleset${KEEP_RULES}`);
    }
    const state: AgentState = { config: config.config, ir, appliedAt };
    if (managed !== null) state.managed = managed;
    this.saved = { state };
    this.generation = generation;
    this.seq = lines.length;
    return state;
  }

  /**
   * The journal lines of `generation`, in order. A last line cut short by a crash is the save
   * that never completed (nobody was told it did): it is dropped, and cut off the file so
   * that the next line starts clean. Anything else that does not read is corruption.
   */
  private async readJournal(generation: number): Promise<JournalLine[]> {
    let text: string;
    try {
      text = await readFile(this.journalFile, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new StateError(this.journalFile, `cannot read the journal: ${describe(error)}`);
    }
    const out: JournalLine[] = [];
    let offset = 0;
    let complete = 0;
    while (offset < text.length) {
      const end = text.indexOf("\n", offset);
      if (end < 0) break; // no newline: a write cut short; dropped below
      const lineText = text.slice(offset, end);
      let line: JournalLine;
      try {
        line = JSON.parse(lineText) as JournalLine;
      } catch {
        throw new StateError(this.journalFile, `the journal is corrupt at byte ${Buffer.byteLength(text.slice(0, offset))}${KEEP_RULES}`);
      }
      offset = end + 1;
      complete = offset;
      if (line.generation !== generation) continue; // written before the snapshot: already in it
      if (line.seq !== out.length + 1) throw new StateError(this.journalFile, `the journal skips from line ${out.length} to ${line.seq}${KEEP_RULES}`);
      out.push(line);
    }
    const bytes = Buffer.byteLength(text.slice(0, complete));
    if (complete < text.length) {
      const file = await open(this.journalFile, "r+");
      try {
        await file.truncate(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
    }
    this.journalBytes = bytes;
    return out;
  }

  /**
   * The loaded state's IR `from` stands as `to`, an equal IR (the caller's word; standalone's
   * compactSaved): the next save's journal line is a change from it, as from the one loaded.
   */
  adoptIr(from: IrRuleset, to: IrRuleset): void {
    if (this.saved !== null && this.saved.state.ir === from) this.saved = { state: { ...this.saved.state, ir: to } };
  }

  /** Queues a save; saves happen one at a time, in order. Resolves once it is on disk. */
  save(state: AgentState, hint?: SaveHint): Promise<void> {
    return this.writes.run(async () => {
      const saved = this.saved;
      if (saved === null || this.seq >= SNAPSHOT_EVERY || this.journalBytes >= JOURNAL_MAX_BYTES) return this.snapshot(state);
      const hinted = hint !== undefined && hint.from.config === saved.state.config && hint.from.ir === saved.state.ir;
      const patch = hinted ? hintedPatch(saved.state, state, hint) : diffState(saved, state);
      const line = `${JSON.stringify({ generation: this.generation, seq: this.seq + 1, patch } satisfies JournalLine)}\n`;
      // A change as large as a tenth of the journal's budget is cheaper as a snapshot.
      if (line.length > JOURNAL_MAX_BYTES / 10) return this.snapshot(state);
      this.journal ??= await open(this.journalFile, "a", 0o600);
      await this.journal.write(line);
      await this.journal.datasync();
      this.seq++;
      this.journalBytes += Buffer.byteLength(line);
      this.saved = { state };
    });
  }

  /** The whole state in state.json, as a new generation; the journal starts over. */
  private async snapshot(state: AgentState): Promise<void> {
    const farms = toNftlb(state.config).farms;
    const generation = this.generation + 1;
    const file = { version: STATE_VERSION, generation, config: { farms }, ir: state.ir, appliedAt: state.appliedAt, managed: state.managed };
    await writeFileAtomic(this.dir, STATE_FILE, `${JSON.stringify(file)}\n`);
    // Lines of the old generation are ignored from now on; emptying the file only saves space.
    await this.journal?.close();
    this.journal = await open(this.journalFile, "w", 0o600);
    await this.journal.sync();
    this.generation = generation;
    this.seq = 0;
    this.journalBytes = 0;
    this.saved = { state };
  }

  /** Waits for every queued save. */
  flush(): Promise<void> {
    return this.writes.idle();
  }

  /** Waits for the queued saves and closes the journal. */
  async close(): Promise<void> {
    await this.writes.idle();
    await this.journal?.close();
    this.journal = null;
  }
}

/** What changed from the saved state to `state`: farms by name (unchanged farms are the same objects), the IR by diffIr. */
function diffState(saved: Saved, state: AgentState): StatePatch {
  const before = saved.state.config.farms;
  const after = state.config.farms;
  const modelPatch = diffNamed(before, after, (a, b) => a === b || JSON.stringify(a) === JSON.stringify(b));
  const patch: StatePatch = { appliedAt: state.appliedAt, managed: state.managed ?? null };
  if (modelPatch !== undefined) {
    patch.farms = {
      ...(modelPatch.put ? { put: modelPatch.put.map((f) => farmToNftlb(f) as NftlbFarm & { name: string }) } : {}),
      ...(modelPatch.remove ? { remove: modelPatch.remove } : {}),
      ...(modelPatch.order ? { order: modelPatch.order } : {}),
    };
  }
  if (saved.state.ir !== state.ir) {
    const irPatch = diffIr(saved.state.ir, state.ir);
    if (irPatch.tables.length > 0 || irPatch.order !== undefined) patch.ir = irPatch;
  }
  return patch;
}

/**
 * The journal line of a save whose changes are known (SaveHint): the farms named, put or
 * removed by name as diffState would, and the hint's IR patch. O(changed farms), unless a farm
 * was renamed or added other than at the end (then the farms' order is written, O(n)).
 */
function hintedPatch(before: AgentState, state: AgentState, hint: SaveHint): StatePatch {
  const patch: StatePatch = { appliedAt: state.appliedAt, managed: state.managed ?? null };
  const names = [...new Set(hint.changed)];
  const from = before.config;
  const to = state.config;
  let farmsPatch: NamedListPatch<NftlbFarm & { name: string }> | undefined;
  if (to.farms.length < from.farms.length) {
    // Farms removed (the lane's other kind of change): nothing else changed.
    // A scan of `from` (whose index has moved on to `to`), cheap and rare.
    const remove = names.filter((name) => from.farms.some((f) => f.name === name));
    if (remove.length > 0) farmsPatch = { remove };
  } else {
    // Looked up in `from` first, then in `to`: each config's index answers in turn.
    const was = new Map(names.map((name) => [name, farmNamed(from, name)]));
    const put: { farm: Farm; at: number; added: boolean }[] = [];
    const remove: string[] = [];
    for (const name of names) {
      const at = farmPosition(to, name);
      const now = at === undefined ? undefined : to.farms[at];
      if (at === undefined || now === undefined) {
        if (was.get(name) !== undefined) remove.push(name);
      } else if (now !== was.get(name)) put.push({ farm: now, at, added: was.get(name) === undefined });
    }
    put.sort((a, b) => a.at - b.at);
    // patchNamed puts new names at the end, in order: right when they are the last farms.
    const added = put.filter((p) => p.added);
    const inOrder = added.every((p, i) => p.at === to.farms.length - added.length + i);
    if (put.length > 0 || remove.length > 0) {
      farmsPatch = {
        ...(put.length > 0 ? { put: put.map((p) => farmToNftlb(p.farm) as NftlbFarm & { name: string }) } : {}),
        ...(remove.length > 0 ? { remove } : {}),
        ...(inOrder ? {} : { order: to.farms.map((f) => f.name) }),
      };
    }
  }
  if (farmsPatch !== undefined) patch.farms = farmsPatch;
  if (hint.ir.tables.length > 0 || hint.ir.order !== undefined) patch.ir = hint.ir;
  return patch;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
