"use client";
import type { ReactNode } from "react";
import { Button } from "./button";
import { ErrorNote } from "./card";
import { Dialog } from "./dialog";

/** "Are you sure?" for changes that cannot be undone: what will happen, the action named on its button, the API's refusal in place. */
export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  children,
  confirmLabel,
  onConfirm,
  pending = false,
  error = null,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  pending?: boolean;
  error?: unknown;
}) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title={title} description={children}>
      {error !== null && error !== undefined ? (
        <div className="mb-3">
          <ErrorNote error={error} />
        </div>
      ) : null}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" onClick={() => onOpenChange(false)}>
          Cancel
        </Button>
        <Button variant="danger" onClick={onConfirm} disabled={pending}>
          {pending ? "Working…" : confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}
