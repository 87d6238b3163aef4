"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/card";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { FormActions } from "@/components/ui/form-actions";
import { Input, Textarea } from "@/components/ui/input";
import { fieldErrors } from "@/lib/errors";
import { useTRPC, type Outputs } from "@/lib/trpc";

type Added = Outputs["nodes"]["add"];

/** "site=dc1" lines (or commas) → labels; the lines that are not key=value, for the error under the field. */
function parseLabels(text: string): { labels: Record<string, string>; bad: string[] } {
  const labels: Record<string, string> = {};
  const bad: string[] = [];
  for (const part of text.split(/[\n,]/).map((p) => p.trim()).filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) bad.push(part);
    else labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { labels, bad };
}

/** Enrolls a node; its token is shown once, here, with the command that starts its agent. */
export function AddNodeDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [url, setUrl] = useState("http://");
  const [labelText, setLabelText] = useState("");
  const [labelError, setLabelError] = useState<string | undefined>();
  const [added, setAdded] = useState<Added | null>(null);
  const add = useMutation(
    trpc.nodes.add.mutationOptions({
      onSuccess: (result) => {
        setAdded(result);
        void queryClient.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
      },
    }),
  );
  const errors = fieldErrors(add.error);
  const labelsFromApi = Object.entries(errors).find(([k]) => k === "labels" || k.startsWith("labels."));

  const close = () => {
    onOpenChange(false);
    setAdded(null);
    setName("");
    setUrl("http://");
    setLabelText("");
    setLabelError(undefined);
    add.reset();
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { labels, bad } = parseLabels(labelText);
    if (bad.length > 0) {
      setLabelError(`not key=value: ${bad.join(", ")}`);
      return;
    }
    setLabelError(undefined);
    add.mutate({ name: name.trim(), url: url.trim(), labels });
  };

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => (next ? onOpenChange(true) : close())}
      title={added === null ? "Add a node" : `Node ${added.node.name} added: start its agent`}
      description={added === null ? "A load-balancer host running switchyard-agent in managed mode. The control plane deploys every revision to it." : undefined}
    >
      {added === null ? (
        <form onSubmit={submit} className="space-y-3" noValidate>
          <Field label="Name" error={errors.name} hint="Lowercase letters, digits and '-', e.g. lb1">
            <Input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" required />
          </Field>
          <Field label="Agent URL" error={errors.url} hint="Where the control plane reaches the agent's API, e.g. http://10.0.0.11:5555">
            <Input value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" inputMode="url" required />
          </Field>
          <Field label="Labels" error={labelError ?? (labelsFromApi ? `${labelsFromApi[0]}: ${labelsFromApi[1]}` : undefined)} hint="Optional: key=value, one a line or separated by commas (site=dc1, rack=a3)">
            <Textarea value={labelText} onChange={(e) => setLabelText(e.target.value)} rows={2} />
          </Field>
          {add.error !== null && Object.keys(errors).length === 0 ? <ErrorNote error={add.error} /> : null}
          <FormActions submitLabel="Add node" busyLabel="Adding…" busy={add.isPending} onCancel={close} className="pt-1" />
        </form>
      ) : (
        <EnrollmentToken added={added} onDone={close} />
      )}
    </Dialog>
  );
}

function EnrollmentToken({ added, onDone }: { added: Added; onDone: () => void }) {
  return (
    <div className="space-y-4 text-sm">
      <p role="alert" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
        <strong>The node token is shown only now.</strong> The control plane keeps only its hash: once this dialog is closed it cannot be shown again (remove the node and add it anew for another).
      </p>
      <div className="space-y-1">
        <div className="flex items-center justify-between gap-2">
          <p className="font-medium" id="enroll-command">On {added.node.name}, as root, run:</p>
          <CopyButton text={added.agentCommand} label="Copy command" />
        </div>
        <pre aria-labelledby="enroll-command" className="overflow-x-auto rounded-md bg-zinc-100 p-3 font-mono text-xs whitespace-pre-wrap break-all dark:bg-zinc-800">{added.agentCommand}</pre>
      </div>
      <div className="space-y-1">
        <div className="flex items-center justify-between gap-2">
          <p className="font-medium" id="enroll-token">The token alone</p>
          <CopyButton text={added.token} label="Copy token" />
        </div>
        <Input readOnly value={added.token} aria-labelledby="enroll-token" className="font-mono text-xs" onFocus={(e) => e.currentTarget.select()} />
      </div>
      <p className="text-zinc-600 dark:text-zinc-400">
        The control plane reaches the agent at <span className="font-mono">{added.node.url}</span>; the node shows as “never seen” until the agent answers there, then gets the latest revision.
      </p>
      <div className="flex justify-end">
        <Button onClick={onDone}>I have saved the token</Button>
      </div>
    </div>
  );
}
