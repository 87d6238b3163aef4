"use client";
import type { State } from "@switchyard/core/enums";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { useTRPC } from "@/lib/trpc";
import { ChangeError } from "./change-error";

const EFFECT: Record<State, string> = {
  up: "Their rules go to every node with the next deploy: new connections to their addresses are balanced again.",
  down: "Their rules are removed from every node with the next deploy: new connections to their addresses are no longer balanced.",
  off: "Their rules are removed from every node with the next deploy, as for down; off says an operator took them out on purpose.",
};

/** The selected farms put in one state, as one revision, after a confirmation that names them. */
export function BulkStateBar({ selected, revision, onClear, onDone }: { selected: ReadonlySet<string>; revision: number | undefined; onClear: () => void; onDone: (what: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<State | null>(null);
  const [message, setMessage] = useState("");
  const names = [...selected].sort();
  const setStates = useMutation(
    trpc.farms.setStates.mutationOptions({
      onSuccess: (result, input) => {
        setState(null);
        setMessage("");
        onDone(result.changed ? `Revision ${result.revision}: ${input.names.length.toLocaleString("en")} farm${input.names.length === 1 ? "" : "s"} set ${input.state}; deploying to the nodes.` : `Nothing changed: the farms were ${input.state} already.`);
      },
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.farms.pathKey() }),
    }),
  );
  const open = (next: State) => {
    setStates.reset();
    setState(next);
  };

  return (
    <div className="mb-3 flex flex-wrap items-center gap-2 rounded-lg border border-blue-200 bg-blue-50 px-3 py-2 text-sm dark:border-blue-900 dark:bg-blue-950/50" role="region" aria-label="Selected farms">
      <span className="font-medium">{names.length.toLocaleString("en")} selected</span>
      <span className="text-zinc-600 dark:text-zinc-400">Set state:</span>
      <Button size="sm" variant="secondary" onClick={() => open("up")}>Set up</Button>
      <Button size="sm" variant="secondary" onClick={() => open("down")}>Set down</Button>
      <Button size="sm" variant="secondary" onClick={() => open("off")}>Set off</Button>
      <Button size="sm" variant="ghost" onClick={onClear}>Clear selection</Button>
      <Dialog
        open={state !== null}
        onOpenChange={(open) => (open ? null : setState(null))}
        title={`Set ${names.length.toLocaleString("en")} farm${names.length === 1 ? "" : "s"} ${state ?? ""}?`}
        description={state !== null ? EFFECT[state] : undefined}
      >
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (state !== null) setStates.mutate({ names, state, ...(revision !== undefined ? { baseRevision: revision } : {}), ...(message.trim() !== "" ? { message: message.trim() } : {}) });
          }}
          className="space-y-3"
        >
          <p className="text-sm">
            {names.slice(0, 12).join(", ")}
            {names.length > 12 ? ` and ${(names.length - 12).toLocaleString("en")} more` : ""}
          </p>
          <Field label="Change message" hint="Optional: why, for the revision history.">
            <Input value={message} onChange={(e) => setMessage(e.target.value)} maxLength={1000} />
          </Field>
          {setStates.isError ? (
            <ChangeError
              error={setStates.error}
              reloadLabel="Reload the table"
              detail
              onReload={() => {
                setState(null);
                void queryClient.invalidateQueries({ queryKey: trpc.farms.pathKey() });
              }}
            />
          ) : null}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="secondary" onClick={() => setState(null)}>Cancel</Button>
            <Button type="submit" variant={state === "up" ? "primary" : "danger"} disabled={setStates.isPending}>
              {setStates.isPending ? "Saving…" : `Set ${state ?? ""}`}
            </Button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}
