import type { ComponentProps } from "react";
import { cn } from "@/lib/cn";

const control =
  "block w-full rounded-md border border-zinc-300 bg-white px-2.5 text-sm text-zinc-900 shadow-xs focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-blue-500 aria-invalid:border-red-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100";

export function Input({ className, ...props }: ComponentProps<"input">) {
  return <input className={cn(control, "h-9", className)} {...props} />;
}

export function Textarea({ className, ...props }: ComponentProps<"textarea">) {
  return <textarea className={cn(control, "py-2 font-mono", className)} {...props} />;
}

/** The browser's own select: accessible and keyboard-friendly as it is. */
export function Select({ className, ...props }: ComponentProps<"select">) {
  return <select className={cn(control, "h-9 pr-8", className)} {...props} />;
}
