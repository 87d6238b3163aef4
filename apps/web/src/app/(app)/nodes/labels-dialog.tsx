"use client";
import { formatPlacement, parsePlacement } from "@switchyard/core/schemas";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { FormActions } from "@/components/ui/form-actions";
import { Input } from "@/components/ui/input";
import { errorMessage, fieldErrors } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";

/**
 * A node's labels, which decide the farms placed on it (a farm's "node labels" selector). Saving
 * deploys to the node at once; the answer names the farms it now gets.
 */
export function LabelsDialog({ node, labels, open, onOpenChange }: { node: string; labels: Record<string, string>; open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [text, setText] = useState(() => formatPlacement(labels));
  const [invalid, setInvalid] = useState<string | undefined>();
  const save = useMutation(
    trpc.nodes.setLabels.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.nodes.pathKey() }),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // The same reading as a farm's selector: what is typed here is what farms select on.
    const parsed = parsePlacement(text);
    if (!parsed.ok) return setInvalid(parsed.reason);
    setInvalid(undefined);
    save.mutate({ name: node, labels: { ...(parsed.placement ?? {}) } });
  };
  const serverError = fieldErrors(save.error).labels;
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (!next) save.reset();
        onOpenChange(next);
      }}
      title={`Labels of ${node}`}
      description="Farms whose node labels all match these are placed on this node; farms without node labels go to every node."
    >
      {save.isSuccess ? (
        <div className="space-y-3 text-sm">
          <p>
            Saved. {node} now gets {save.data.farms.length} farm{save.data.farms.length === 1 ? "" : "s"}
            {save.data.farms.length > 0 && save.data.farms.length <= 10 ? `: ${save.data.farms.join(", ")}` : ""}; its new ruleset is being deployed.
          </p>
          <Button onClick={() => onOpenChange(false)}>Close</Button>
        </div>
      ) : (
        <form onSubmit={submit} className="space-y-3">
          <Field label="Labels" error={invalid ?? serverError} hint="key=value, separated by commas, e.g. role=edge,zone=a; empty: no labels.">
            <Input value={text} onChange={(e) => setText(e.target.value)} className="font-mono" autoComplete="off" spellCheck={false} />
          </Field>
          {save.isError && serverError === undefined ? <ErrorNote error={errorMessage(save.error)} /> : null}
          <FormActions submitLabel="Save labels" busyLabel="Saving…" busy={save.isPending} onCancel={() => onOpenChange(false)} />
        </form>
      )}
    </Dialog>
  );
}
