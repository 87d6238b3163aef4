"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { downloadText } from "@/lib/download";
import { ago } from "@/lib/format";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";

const LATEST = "latest";

export function ExportCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const revisions = useQuery(trpc.revisions.list.queryOptions({ limit: 100 }));
  const [choice, setChoice] = useState(LATEST);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const latest = revisions.data?.[0]?.number;
  const number = choice === LATEST ? latest : Number(choice);

  return (
    <Card title="Export a revision" className="self-start">
      {revisions.isError ? <ErrorNote error={revisions.error} /> : revisions.data?.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No revision yet: there is nothing to export.</p>
      ) : (
        <form
          className="space-y-3"
          onSubmit={async (event) => {
            event.preventDefault();
            if (number === undefined) return;
            setBusy(true);
            setError(null);
            setSaved(null);
            try {
              const config = await queryClient.fetchQuery(trpc.revisions.export.queryOptions({ revision: number }));
              const name = `switchyard-revision-${number}.json`;
              downloadText(name, `${JSON.stringify(config, null, 2)}\n`, "application/json");
              setSaved(`Revision ${number} (${config.farms.length} farm${config.farms.length === 1 ? "" : "s"}) saved as ${name}.`);
            } catch (e) {
              setError(`revision ${number} could not be exported: ${errorMessage(e)}`);
            } finally {
              setBusy(false);
            }
          }}
        >
          <Field label="Revision" hint="The newest 100; older ones: bin/switchyard export N, or the REST route below.">
            <Select value={choice} onChange={(e) => setChoice(e.target.value)}>
              <option value={LATEST}>{latest !== undefined ? `Latest (revision ${latest})` : "Latest"}</option>
              {(revisions.data ?? []).slice(1).map((r) => (
                <option key={r.number} value={String(r.number)}>
                  {r.number} · {r.message !== "" ? r.message : "no message"} · {r.authorName}, {ago(r.createdAt)}
                </option>
              ))}
            </Select>
          </Field>
          <Button type="submit" disabled={number === undefined || busy}>
            {busy ? "Exporting…" : number !== undefined ? `Download revision ${number} as JSON` : "Download"}
          </Button>
          {error !== null ? <ErrorNote error={error} /> : null}
          {saved !== null ? <p role="status" className="text-sm text-green-800 dark:text-green-300">{saved}</p> : null}
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            The same file from a script: <code className="font-mono">GET /api/v1/export?revision={number ?? "N"}</code> with <code className="font-mono">Authorization: Bearer</code> and an API token, or <code className="font-mono">bin/switchyard export {number ?? "N"}</code>.
          </p>
        </form>
      )}
    </Card>
  );
}
