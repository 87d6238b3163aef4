"use client";
import { STATES, type State } from "@switchyard/core/enums";
import { ToggleGroup } from "radix-ui";
import { cn } from "@/lib/cn";

const PRESSED: Record<State, string> = {
  up: "data-[state=on]:bg-green-600 data-[state=on]:text-white",
  down: "data-[state=on]:bg-red-600 data-[state=on]:text-white",
  off: "data-[state=on]:bg-zinc-600 data-[state=on]:text-white",
};

/**
 * up / down / off as one control (Radix: a radiogroup of three radios, arrow keys move, the
 * group's label names it, e.g. "Backend 1 state"). Choosing the pressed one again changes nothing.
 */
export function StateToggle({ label, value, onChange, disabled, busy }: { label: string; value: State; onChange: (state: State) => void; disabled?: boolean; busy?: boolean }) {
  return (
    <ToggleGroup.Root
      type="single"
      aria-label={label}
      aria-busy={busy || undefined}
      value={value}
      disabled={disabled}
      onValueChange={(next) => {
        if (next !== "" && next !== value) onChange(next as State);
      }}
      className={cn("inline-flex rounded-md border border-zinc-300 dark:border-zinc-700", busy && "opacity-60")}
    >
      {STATES.map((state) => (
        <ToggleGroup.Item
          key={state}
          value={state}
          className={cn(
            "h-7 px-2 text-xs font-medium text-zinc-700 first:rounded-l-md last:rounded-r-md hover:bg-zinc-100 focus-visible:relative focus-visible:outline-2 focus-visible:outline-blue-500 disabled:cursor-not-allowed dark:text-zinc-300 dark:hover:bg-zinc-800",
            PRESSED[state],
          )}
        >
          {state}
        </ToggleGroup.Item>
      ))}
    </ToggleGroup.Root>
  );
}
