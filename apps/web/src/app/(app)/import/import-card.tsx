"use client";
import { diffConfigs, type ConfigIssue } from "@switchyard/core/schemas";
import { skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useMemo, useRef, useState } from "react";
import { ConfigDiffView } from "@/components/history/config-diff-view";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { errorData } from "@/lib/errors";
import { countWords, plural } from "@/lib/history-words";
import { useTRPC } from "@/lib/trpc";
import { useCan, useViewer } from "@/lib/viewer";
import { IssueTable } from "./issue-table";
import { checkFile, currentConfig } from "./parse-file";

/** The per-field reasons of a refused import (core's ConfigIssue, as the API sends them in data.issues). */
function refusedIssues(error: unknown): ConfigIssue[] {
  const issues = (errorData(error) as { issues?: unknown }).issues;
  return Array.isArray(issues) ? (issues as ConfigIssue[]) : [];
}

export function ImportCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const operator = useCan("operator");
  const viewer = useViewer();
  const fileInput = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [source, setSource] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const [readError, setReadError] = useState<string | null>(null);

  const head = useQuery(trpc.revisions.list.queryOptions({ limit: 1 }));
  const latest = head.data === undefined ? undefined : (head.data[0]?.number ?? 0);
  const check = useMemo(() => checkFile(text), [text]);
  // The current config is fetched only for a file worth comparing (at 10,000 farms it is megabytes).
  const exported = useQuery(trpc.revisions.export.queryOptions(check.state === "valid" && latest !== undefined && latest > 0 ? { revision: latest } : skipToken));
  const current = useMemo(() => (latest === 0 ? { farms: [] } : exported.data !== undefined ? currentConfig(exported.data) : null), [latest, exported.data]);
  const diff = useMemo(() => (check.state === "valid" && current !== null ? diffConfigs(current, check.config) : null), [check, current]);

  const run = useMutation(
    trpc.revisions.import.mutationOptions({
      onSettled: () => Promise.all([trpc.revisions, trpc.farms, trpc.deployments, trpc.audit].map((r) => queryClient.invalidateQueries({ queryKey: r.pathKey() }))),
    }),
  );
  const serverIssues = run.isError ? refusedIssues(run.error) : [];
  const removed = diff?.farms.filter((f) => f.change === "removed") ?? [];
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const f of diff?.farms ?? []) counts[f.change]++;
  const defaultMessage = source !== null ? `import of ${source}` : "import of a pasted config";

  const reset = () => {
    setText("");
    setSource(null);
    setMessage("");
    run.reset();
    if (fileInput.current) fileInput.current.value = "";
  };

  return (
    <Card title="Import an nftlb config">
      <div className="space-y-3">
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          The file becomes the whole desired configuration, as one new revision that is deployed to every node: farms it does not name are removed. A file with any error is refused whole, and nothing is written.
        </p>
        {!operator ? <p className="text-sm">Importing needs the operator role; {viewer.name} is {viewer.role}. The check below still tells what a file would change.</p> : null}
        <Field label="nftlb JSON file" hint="Its text appears below, where it can be edited before importing.">
          <Input
            ref={fileInput}
            type="file"
            accept=".json,application/json"
            className="py-1.5 file:mr-3 file:rounded file:border-0 file:bg-zinc-100 file:px-2 file:py-0.5 file:text-sm dark:file:bg-zinc-800"
            onChange={async (event) => {
              const file = event.target.files?.[0];
              if (file === undefined) return;
              run.reset();
              setReadError(null);
              try {
                setText(await file.text());
                setSource(file.name);
              } catch (error) {
                setReadError(`${file.name}: could not be read (${error instanceof Error ? error.message : String(error)})`);
              }
            }}
          />
        </Field>
        {readError !== null ? <ErrorNote error={readError} /> : null}
        <Field label="Or paste the JSON">
          <Textarea
            rows={10}
            spellCheck={false}
            value={text}
            placeholder={'{ "farms": [ { "name": "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", "backends": [ … ] } ] }'}
            onChange={(event) => {
              setText(event.target.value);
              setSource((s) => (s !== null && !s.endsWith(" (edited)") ? `${s} (edited)` : s));
              run.reset();
            }}
          />
        </Field>

        {check.state === "invalid" ? <IssueTable issues={check.issues} caption={`This config has ${plural(check.issues.length, "error")}; it cannot be imported as it is.`} /> : null}
        {check.state === "valid" && run.data === undefined ? (
          diff === null ? (
            exported.isError ? <ErrorNote error={exported.error} /> : <p className="text-sm text-zinc-500">{plural(check.config.farms.length, "farm")}, no error. Comparing with the current configuration…</p>
          ) : diff.farms.length === 0 ? (
            <p className="text-sm" role="status">The file holds the configuration as it is now (revision {latest}): importing it would change nothing.</p>
          ) : (
            <section aria-label="What this import changes" className="space-y-2">
              <h3 className="text-sm font-semibold">
                What this import changes in revision {latest}: <span className="font-normal">{countWords(counts)}</span>
              </h3>
              {removed.length > 0 ? (
                <p className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
                  The file does not name {plural(removed.length, "farm")} that run{removed.length === 1 ? "s" : ""} now; importing removes {removed.length === 1 ? "it" : "them"}: {removed.slice(0, 10).map((f) => f.name).join(", ")}
                  {removed.length > 10 ? ` and ${removed.length - 10} more` : ""}.
                </p>
              ) : null}
              <div className="max-h-96 overflow-auto pr-1">
                <ConfigDiffView diff={diff} />
              </div>
            </section>
          )
        ) : null}

        {operator ? (
          <form
            className="space-y-3"
            onSubmit={(event) => {
              event.preventDefault();
              if (check.state !== "valid") return;
              run.mutate({ config: text, message: message.trim() !== "" ? message.trim() : defaultMessage, ...(latest !== undefined ? { baseRevision: latest } : {}) });
            }}
          >
            <Field label="Message (optional)" hint={`Default: ${defaultMessage}`}>
              <Input value={message} onChange={(e) => setMessage(e.target.value)} maxLength={1000} />
            </Field>
            {run.isError ? (serverIssues.length > 0 ? <IssueTable issues={serverIssues} caption="The control plane refused the file; nothing was written." /> : <ErrorNote error={run.error} />) : null}
            {run.isError && errorData(run.error).code === "CONFLICT" ? <p className="text-sm">Nothing was imported. The preview above is now compared with the latest revision ({latest}): check it and import again.</p> : null}
            {run.data !== undefined ? (
              <p role="status" className="rounded-md border border-green-300 bg-green-50 px-3 py-2 text-sm text-green-900 dark:border-green-900 dark:bg-green-950 dark:text-green-200">
                {run.data.changed ? (
                  <>
                    Imported {plural(run.data.farms, "farm")} as revision {run.data.revision}; it is being deployed.{" "}
                    <Link className="underline" href={`/revisions/diff?from=${run.data.revision - 1}&to=${run.data.revision}`}>What revision {run.data.revision} changed</Link>
                    {" · "}
                    <Link className="underline" href="/deploys">Deploy progress</Link>
                  </>
                ) : (
                  <>Nothing imported: revision {run.data.revision} already holds this configuration.</>
                )}
              </p>
            ) : null}
            <div className="flex gap-2">
              <Button type="submit" disabled={check.state !== "valid" || diff === null || diff.farms.length === 0 || run.isPending || run.data !== undefined}>
                {run.isPending ? "Importing…" : "Import as a new revision"}
              </Button>
              {text !== "" ? (
                <Button type="button" variant="ghost" onClick={reset}>
                  Clear
                </Button>
              ) : null}
            </div>
          </form>
        ) : null}
      </div>
    </Card>
  );
}
