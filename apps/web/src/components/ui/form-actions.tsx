import { cn } from "@/lib/cn";
import { Button } from "./button";

/**
 * A dialog form's last row: Cancel, which closes it without saving, and the submit button,
 * which says `busyLabel` and cannot be pressed again while the request runs.
 */
export function FormActions({ submitLabel, busyLabel, busy, onCancel, className }: { submitLabel: string; busyLabel: string; busy: boolean; onCancel: () => void; className?: string }) {
  return (
    <div className={cn("flex justify-end gap-2", className)}>
      <Button type="button" variant="secondary" onClick={onCancel}>Cancel</Button>
      <Button type="submit" disabled={busy}>{busy ? busyLabel : submitLabel}</Button>
    </div>
  );
}
