import type { BackendDiff, FarmDiff, FieldChange } from "@switchyard/core/schemas";

// A revision's changes in the words an operator reads at a glance in the timeline: which farms
// came and went, and for a changed farm each attribute as old → new, backends by name.

const shown = (value: string) => (value === "" ? "(none)" : value);

export function fieldWords(f: FieldChange): string {
  if (f.before === "") return `${f.field} ${shown(f.after)}`;
  if (f.after === "") return `${f.field} ${shown(f.before)} removed`;
  return `${f.field} ${f.before} → ${f.after}`;
}

export function backendWords(b: BackendDiff): string {
  if (b.change === "added") return `added backend ${b.name}`;
  if (b.change === "removed") return `removed backend ${b.name}`;
  return `backend ${b.name} ${b.fields.map(fieldWords).join(", ")}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/** What changed inside a farm that is in both configs: "scheduler weight → rr; added backend b4". */
export function changedWords(f: FarmDiff): string {
  return [...f.fields.map(fieldWords), ...f.backends.map(backendWords)].join("; ");
}

export function farmWords(f: FarmDiff): string {
  if (f.change === "added") return `added farm ${f.name} (${plural(f.backends.length, "backend")})`;
  if (f.change === "removed") return `removed farm ${f.name}`;
  return `farm ${f.name}: ${changedWords(f)}`;
}

/** "2 farms added"; "3 farms: 1 added, 1 removed, 1 changed"; "" when nothing changed. */
export function countWords(c: { added: number; removed: number; changed: number }): string {
  const total = c.added + c.removed + c.changed;
  if (total === 0) return "";
  const kinds = (["added", "removed", "changed"] as const).filter((k) => c[k] > 0);
  if (kinds.length === 1) return `${plural(total, "farm")} ${kinds[0]}`;
  return `${plural(total, "farm")}: ${kinds.map((k) => `${c[k].toLocaleString("en")} ${k}`).join(", ")}`;
}

export const KIND_TONE = { change: "gray", rollback: "amber", import: "blue" } as const;
export function kindTone(kind: string): "gray" | "amber" | "blue" {
  return KIND_TONE[kind as keyof typeof KIND_TONE] ?? "gray";
}
