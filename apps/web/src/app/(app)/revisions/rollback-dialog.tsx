"use client";
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { ConfigDiffView } from "@/components/history/config-diff-view";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/card";
import { Dialog } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input, Select } from "@/components/ui/input";
import { errorData } from "@/lib/errors";
import { countWords, plural } from "@/lib/history-words";
import { useTRPC } from "@/lib/trpc";

const EVERYTHING = "";

/**
 * Rolls everything, or one farm, back to revision `to`, after showing exactly what that changes
 * in the current revision. The rollback is based on the revision the preview was made from: if
 * someone changes a farm in between, it is refused as a conflict and the preview reloads.
 */
export function RollbackDialog({ to, open, onOpenChange }: { to: number; open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const head = useQuery(trpc.revisions.list.queryOptions({ limit: 1 }, { staleTime: 0 }));
  const latest = head.data?.[0]?.number;
  const diff = useQuery(trpc.revisions.diff.queryOptions(latest === undefined ? skipToken : { from: latest, to }));
  const [farm, setFarm] = useState(EVERYTHING);
  const [message, setMessage] = useState("");
  const refresh = () =>
    Promise.all([trpc.revisions, trpc.farms, trpc.deployments, trpc.audit].map((r) => queryClient.invalidateQueries({ queryKey: r.pathKey() })));
  const rollback = useMutation(trpc.revisions.rollback.mutationOptions({ onSettled: refresh }));

  const farms = diff.data?.farms ?? [];
  const shown = farm === EVERYTHING ? farms : farms.filter((f) => f.name === farm);
  const scope = farm === EVERYTHING ? "everything" : `farm ${farm}`;
  const done = rollback.data;

  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={`Roll back to revision ${to}`}
      description={
        latest === undefined
          ? "Loading the current revision…"
          : `Makes ${scope === "everything" ? "the whole configuration" : scope} as it was in revision ${to}, as a new revision that is deployed to every node. Below is exactly what that changes in the current revision ${latest}.`
      }
    >
      {done !== undefined ? (
        <div className="space-y-3 text-sm" role="status">
          {done.changed ? (
            <p>
              Revision <span className="font-semibold">{done.revision}</span> rolls {scope} back to revision {to}; it is being deployed.
            </p>
          ) : (
            <p>Nothing to roll back: {scope === "everything" ? "the configuration" : scope} already is as it was in revision {to}.</p>
          )}
          <div className="flex flex-wrap gap-2">
            {done.changed ? (
              <>
                <Button asChild variant="secondary" size="sm">
                  <Link href={`/revisions/diff?from=${done.revision - 1}&to=${done.revision}`}>Open revision {done.revision}</Link>
                </Button>
                <Button asChild variant="secondary" size="sm">
                  <Link href="/deploys">Watch the deploy</Link>
                </Button>
              </>
            ) : null}
            <Button size="sm" onClick={() => onOpenChange(false)}>Close</Button>
          </div>
        </div>
      ) : (
        <form
          className="space-y-3"
          onSubmit={(event) => {
            event.preventDefault();
            if (latest === undefined) return;
            rollback.mutate({ to, baseRevision: latest, ...(farm !== EVERYTHING ? { farm } : {}), ...(message.trim() !== "" ? { message: message.trim() } : {}) });
          }}
        >
          {head.isError ? <ErrorNote error={head.error} /> : null}
          {diff.isError ? <ErrorNote error={diff.error} /> : null}
          {diff.isPending && latest !== undefined ? <p className="text-sm text-zinc-500">Comparing revision {latest} with revision {to}…</p> : null}
          {diff.data !== undefined && farms.length > 0 ? (
            <>
              <Field label="What to roll back">
                <Select value={farm} onChange={(e) => setFarm(e.target.value)}>
                  <option value={EVERYTHING}>Everything ({plural(farms.length, "farm")} differ{farms.length === 1 ? "s" : ""})</option>
                  {farms.map((f) => (
                    <option key={f.name} value={f.name}>
                      Only farm {f.name} ({f.change === "added" ? "brings it back" : f.change === "removed" ? "removes it" : "restores its attributes and backends"})
                    </option>
                  ))}
                </Select>
              </Field>
              <div>
                <h3 className="mb-1 text-sm font-semibold">
                  What changes: <span className="font-normal">{countWords({ added: shown.filter((f) => f.change === "added").length, removed: shown.filter((f) => f.change === "removed").length, changed: shown.filter((f) => f.change === "changed").length })}</span>
                </h3>
                <div className="max-h-80 overflow-auto pr-1">
                  <ConfigDiffView diff={{ farms: shown }} />
                </div>
              </div>
              <Field label="Message (optional)" hint={`Default: rollback ${farm === EVERYTHING ? "" : `of farm ${farm} `}to revision ${to}`}>
                <Input value={message} onChange={(e) => setMessage(e.target.value)} maxLength={1000} />
              </Field>
            </>
          ) : null}
          {diff.data !== undefined && farms.length === 0 ? (
            <p className="text-sm">The current revision {latest} has the same configuration as revision {to}: there is nothing to roll back.</p>
          ) : null}
          {rollback.isError ? <ErrorNote error={rollback.error} /> : null}
          {rollback.isError && errorData(rollback.error).code === "CONFLICT" ? (
            <p className="text-sm">Nothing was rolled back. What changes above is now compared with the latest revision{latest !== undefined ? ` (${latest})` : ""}: check it and roll back again.</p>
          ) : null}
          <div className="flex justify-end gap-2 pt-1">
            <Button type="button" variant="secondary" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" disabled={latest === undefined || farms.length === 0 || rollback.isPending}>
              {rollback.isPending ? "Rolling back…" : "Roll back"}
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
