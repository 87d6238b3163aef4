"use client";
import { Dialog as D } from "radix-ui";
import type { ReactNode } from "react";

/** A modal with a title and a description (Radix: focus trapped, Escape closes, focus returns). */
export function Dialog({ open, onOpenChange, title, description, children }: { open: boolean; onOpenChange: (open: boolean) => void; title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <D.Root open={open} onOpenChange={onOpenChange}>
      <D.Portal>
        <D.Overlay className="fixed inset-0 z-40 bg-black/40" />
        <D.Content className="fixed top-1/2 left-1/2 z-50 max-h-[85vh] w-[min(44rem,92vw)] -translate-x-1/2 -translate-y-1/2 overflow-auto rounded-lg border border-zinc-200 bg-white p-5 shadow-xl focus:outline-none dark:border-zinc-800 dark:bg-zinc-900">
          <D.Title className="text-base font-semibold">{title}</D.Title>
          {description !== undefined ? <D.Description className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{description}</D.Description> : <D.Description className="sr-only">{title}</D.Description>}
          <div className="mt-4">{children}</div>
        </D.Content>
      </D.Portal>
    </D.Root>
  );
}
