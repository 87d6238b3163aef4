"use client";
import { Progress as P } from "radix-ui";
import { cn } from "@/lib/cn";

/** A labelled bar of `value` out of `max`; `failed` of them drawn red after the done ones. */
export function ProgressBar({ label, value, max, failed = 0, className }: { label: string; value: number; max: number; failed?: number; className?: string }) {
  const pct = (n: number) => (max === 0 ? 0 : Math.min(100, (n / max) * 100));
  return (
    <P.Root aria-label={label} value={value} max={Math.max(max, 1)} getValueLabel={(v, m) => `${v} of ${m}`} className={cn("relative flex h-2.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800", className)}>
      <P.Indicator className="h-full bg-green-600 transition-[width] duration-300 dark:bg-green-500" style={{ width: `${pct(value)}%` }} />
      {failed > 0 ? <div className="h-full bg-red-600 dark:bg-red-500" style={{ width: `${pct(failed)}%` }} aria-hidden /> : null}
    </P.Root>
  );
}
