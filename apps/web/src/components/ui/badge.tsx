import type { ReactNode } from "react";
import { cn } from "@/lib/cn";

const TONES = {
  green: "bg-green-100 text-green-800 dark:bg-green-950 dark:text-green-300",
  red: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300",
  amber: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-300",
  gray: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  blue: "bg-blue-100 text-blue-800 dark:bg-blue-950 dark:text-blue-300",
} as const;

export type Tone = keyof typeof TONES;

export function Badge({ tone = "gray", children, className }: { tone?: Tone; children: ReactNode; className?: string }) {
  return <span className={cn("inline-flex items-center rounded px-1.5 py-0.5 text-xs font-medium", TONES[tone], className)}>{children}</span>;
}

/** Backend and farm states, as the model names them. */
export function StateBadge({ state }: { state: string }) {
  const tone: Tone = state === "up" ? "green" : state === "down" ? "red" : "gray";
  return <Badge tone={tone}>{state}</Badge>;
}
