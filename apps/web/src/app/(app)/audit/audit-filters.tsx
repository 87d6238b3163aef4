"use client";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input, Select } from "@/components/ui/input";
import { useTRPC } from "@/lib/trpc";
import { queryOf, utc, type AuditFilters } from "./filters";

/** The filter form; applying it puts the filters in the URL. */
export function AuditFilterForm({ value, onApply }: { value: AuditFilters; onApply: (filters: AuditFilters) => void }) {
  const trpc = useTRPC();
  const options = useQuery(trpc.audit.filters.queryOptions());
  const [draft, setDraft] = useState(value);
  const applied = queryOf(value);
  // Keyed by the filters as text: the parent hands a new object with the same filters each render.
  useEffect(() => setDraft(value), [applied]);
  const set = (key: keyof AuditFilters) => (event: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: event.target.value }));
  const badTime = (v: string) => (v !== "" && utc(v) === null ? "not a time" : undefined);
  const tooEarly = draft.since !== "" && draft.until !== "" && (utc(draft.until)?.getTime() ?? 0) < (utc(draft.since)?.getTime() ?? 0) ? "before From" : undefined;
  const any = Object.values(value).some((v) => v !== "");

  return (
    <form
      aria-label="Filter the audit log"
      className="mb-4 grid gap-3 rounded-lg border border-zinc-200 bg-white p-3 sm:grid-cols-3 lg:grid-cols-6 dark:border-zinc-800 dark:bg-zinc-900"
      onSubmit={(event) => {
        event.preventDefault();
        if (badTime(draft.since) === undefined && badTime(draft.until) === undefined && tooEarly === undefined) onApply(draft);
      }}
    >
      <Field label="User">
        <Select value={draft.user} onChange={set("user")}>
          <option value="">Anyone</option>
          {(options.data?.actors ?? []).map((a) => <option key={a} value={a}>{a}</option>)}
          {draft.user !== "" && !(options.data?.actors ?? []).includes(draft.user) ? <option value={draft.user}>{draft.user}</option> : null}
        </Select>
      </Field>
      <Field label="Entity type">
        <Select value={draft.type} onChange={set("type")}>
          <option value="">Any</option>
          {(options.data?.entityTypes ?? []).map((t) => <option key={t} value={t}>{t}</option>)}
        </Select>
      </Field>
      <Field label="Entity name">
        <Input value={draft.name} onChange={set("name")} placeholder="e.g. web" spellCheck={false} />
      </Field>
      <Field label="Action">
        <Select value={draft.action} onChange={set("action")}>
          <option value="">Any</option>
          {(options.data?.actions ?? []).map((a) => <option key={a} value={a}>{a}</option>)}
        </Select>
      </Field>
      <Field label="From (UTC)" error={badTime(draft.since)}>
        <Input type="datetime-local" value={draft.since} onChange={set("since")} />
      </Field>
      <Field label="To (UTC)" error={badTime(draft.until) ?? tooEarly}>
        <Input type="datetime-local" value={draft.until} onChange={set("until")} />
      </Field>
      <div className="flex gap-2 sm:col-span-3 lg:col-span-6">
        <Button type="submit" size="sm">Apply filters</Button>
        {any ? (
          <Button type="button" variant="ghost" size="sm" onClick={() => onApply({ user: "", type: "", name: "", action: "", since: "", until: "" })}>
            Clear filters
          </Button>
        ) : null}
      </div>
    </form>
  );
}
