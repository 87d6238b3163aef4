import { createTwoFilesPatch, diffArrays, formatPatch, structuredPatch, type StructuredPatchHunk } from "diff";

// A unified diff of two rendered nft rulesets that never holds the event loop for long. Myers'
// diff is quick when little differs, but two rulesets of 10,000 farms whose every port changed
// took 40 s in one piece (and the control plane answered nothing else meanwhile). So: the whole
// text within a small budget; past it, block by block (a table's chains, maps, sets, counters
// are matched by their header line; equal blocks are skipped), each within what is left of the
// budget, and a block that still does not fit is shown replaced whole. Every answer is a valid
// patch from `before` to `after`; only its minimality is given up.

const WHOLE_BUDGET_MS = 800;
const BLOCKS_BUDGET_MS = 1500;
const CONTEXT = 3;

interface Segment {
  key: string;
  lines: string[];
  /** 0-based index of the segment's first line in its file. */
  start: number;
}

/** A table's blocks (`\tchain x {` … `\t}`) and the lines between them, each its own segment. */
export function segments(text: string): Segment[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const out: Segment[] = [];
  let table = "";
  const seen = new Map<string, number>();
  const push = (key: string, segmentLines: string[], start: number) => {
    // A key that repeats (two tables' closing braces) stays unique by its occurrence.
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    out.push({ key: n === 0 ? key : `${key}\n#${n}`, lines: segmentLines, start });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^\t\S.*\{$/.test(line)) {
      let end = i + 1;
      while (end < lines.length && lines[end] !== "\t}") end++;
      push(`${table}\n${line}`, lines.slice(i, end + 1), i);
      i = end;
      continue;
    }
    if (!line.startsWith("\t")) table = line;
    push(`${table}\n${line}`, [line], i);
  }
  return out;
}

function replaced(old: Segment | null, now: Segment | null, oldAt: number, newAt: number): StructuredPatchHunk {
  const removed = old?.lines ?? [];
  const added = now?.lines ?? [];
  return { oldStart: oldAt + 1, oldLines: removed.length, newStart: newAt + 1, newLines: added.length, lines: [...removed.map((l) => `-${l}`), ...added.map((l) => `+${l}`)] };
}

function blockwise(oldName: string, newName: string, before: string, after: string, deadline: number): string {
  const a = segments(before);
  const b = segments(after);
  const hunks: StructuredPatchHunk[] = [];
  const keys = diffArrays(
    a.map((s) => s.key),
    b.map((s) => s.key),
    { timeout: Math.max(50, deadline - Date.now()) },
  );
  let i = 0;
  let j = 0;
  // Line positions where the next segment starts, in each file.
  const oldAt = () => a[i]?.start ?? before.split("\n").length - 1;
  const newAt = () => b[j]?.start ?? after.split("\n").length - 1;
  const runs = keys ?? [{ removed: true, added: false, count: a.length }, { removed: false, added: true, count: b.length }];
  for (const run of runs) {
    for (let k = 0; k < (run.count ?? 0); k++) {
      if (run.removed) {
        hunks.push(replaced(a[i] as Segment, null, oldAt(), newAt()));
        i++;
      } else if (run.added) {
        hunks.push(replaced(null, b[j] as Segment, oldAt(), newAt()));
        j++;
      } else {
        const old = a[i] as Segment;
        const now = b[j] as Segment;
        if (old.lines.length !== now.lines.length || old.lines.some((line, n) => line !== now.lines[n])) {
          const left = deadline - Date.now();
          const patch = left > 0 ? structuredPatch("", "", `${old.lines.join("\n")}\n`, `${now.lines.join("\n")}\n`, undefined, undefined, { context: CONTEXT, timeout: left }) : undefined;
          if (patch === undefined) hunks.push(replaced(old, now, old.start, now.start));
          else for (const h of patch.hunks) hunks.push({ ...h, oldStart: h.oldStart + old.start, newStart: h.newStart + now.start });
        }
        i++;
        j++;
      }
    }
  }
  return formatPatch({ oldFileName: oldName, newFileName: newName, oldHeader: undefined, newHeader: undefined, hunks });
}

export function rulesetDiff(oldName: string, newName: string, before: string, after: string): string {
  const whole = createTwoFilesPatch(oldName, newName, before, after, undefined, undefined, { context: CONTEXT, timeout: WHOLE_BUDGET_MS });
  return whole ?? blockwise(oldName, newName, before, after, Date.now() + BLOCKS_BUDGET_MS);
}
