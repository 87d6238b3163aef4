"use client";
import { Checkbox as C } from "radix-ui";
import type { ComponentProps } from "react";
import { cn } from "@/lib/cn";

/** A checkbox (Radix: role checkbox, Space toggles, "indeterminate" for a partly selected set). Give it an aria-label or a label. */
export function Checkbox({ className, ...props }: ComponentProps<typeof C.Root>) {
  return (
    <C.Root
      className={cn(
        "grid size-4 shrink-0 place-items-center rounded border border-zinc-400 bg-white text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500 disabled:cursor-not-allowed disabled:opacity-50 data-[state=checked]:border-blue-600 data-[state=checked]:bg-blue-600 data-[state=indeterminate]:border-blue-600 data-[state=indeterminate]:bg-blue-600 dark:border-zinc-500 dark:bg-zinc-900",
        className,
      )}
      {...props}
    >
      <C.Indicator>
        {props.checked === "indeterminate" ? (
          <svg viewBox="0 0 12 12" className="size-3" aria-hidden="true"><path d="M2.5 6h7" stroke="currentColor" strokeWidth="2" strokeLinecap="round" /></svg>
        ) : (
          <svg viewBox="0 0 12 12" className="size-3" aria-hidden="true"><path d="M2.5 6.5 5 9l4.5-6" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" /></svg>
        )}
      </C.Indicator>
    </C.Root>
  );
}
