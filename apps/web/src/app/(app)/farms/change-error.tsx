"use client";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/card";
import { errorData, errorMessage } from "@/lib/errors";
import { ago, exact } from "@/lib/format";

/**
 * Why a change was refused. A conflict (someone changed the farm after this page read it) says
 * who, in which revision and when, and offers to reload: the change is then made again on
 * what is current, never silently on top of someone else's. `detail` adds the server's words
 * (which farm, when several were changed at once).
 */
export function ChangeError({ error, onReload, reloadLabel = "Reload", detail = false }: { error: unknown; onReload: () => void; reloadLabel?: string; detail?: boolean }) {
  const conflict = errorData(error).conflict as { author: string; revision: number; at?: string } | null | undefined;
  if (conflict === null || conflict === undefined) return <ErrorNote error={error} />;
  return (
    <div role="alert" className="flex flex-wrap items-center gap-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
      <p className="min-w-0 flex-1">
        <span className="font-medium">Not saved: {conflict.author} changed this in revision {conflict.revision}</span>
        {conflict.at ? <span title={exact(conflict.at)}> ({ago(conflict.at)})</span> : null}, after this page loaded it. Reload to see their change, then make
        yours again.{detail ? <span className="text-xs opacity-80"> ({errorMessage(error)})</span> : null}
      </p>
      <Button type="button" variant="secondary" size="sm" onClick={onReload}>
        {reloadLabel}
      </Button>
    </div>
  );
}
