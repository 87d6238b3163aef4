import { Label } from "radix-ui";
import { useId, type ReactElement, type ReactNode } from "react";
import { cloneElement } from "react";

/**
 * A labelled control with its error under it. The control gets the id, aria-invalid and
 * aria-describedby, so a screen reader reads the error with the field.
 */
export function Field({ label, error, hint, children }: { label: string; error?: string | undefined; hint?: ReactNode; children: ReactElement<Record<string, unknown>> }) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="space-y-1">
      <Label.Root htmlFor={id} className="block text-sm font-medium text-zinc-800 dark:text-zinc-200">
        {label}
      </Label.Root>
      {cloneElement(children, { id, "aria-invalid": error !== undefined ? true : undefined, "aria-describedby": error !== undefined ? errorId : undefined })}
      {error !== undefined ? (
        <p id={errorId} role="alert" className="text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      ) : hint !== undefined ? (
        <p className="text-xs text-zinc-500">{hint}</p>
      ) : null}
    </div>
  );
}
