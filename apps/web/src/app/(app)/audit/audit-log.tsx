"use client";
import { useQueries } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ErrorNote, PageHeader } from "@/components/ui/card";
import { useTRPC } from "@/lib/trpc";
import { AuditFilterForm } from "./audit-filters";
import { AuditTable } from "./audit-table";
import { apiInput, filtersOf, queryOf, type AuditFilters } from "./filters";

const PAGE = 50;

/** The events that match the URL's filters, newest first, PAGE at a time. */
function Events({ filters }: { filters: AuditFilters }) {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const input = apiInput(filters);
  const pages = useQueries({
    queries: cursors.map((before, i) => trpc.audit.list.queryOptions({ ...input, limit: PAGE, ...(before !== undefined ? { before } : {}) }, i === 0 ? { refetchInterval: 15_000 } : {})),
  });
  const events = pages.flatMap((p) => p.data ?? []);
  const last = pages.at(-1);
  const oldest = events.at(-1)?.id;
  const filtered = Object.values(filters).some((v) => v !== "");

  return (
    <>
      {pages.map((p, i) => (p.isError ? <ErrorNote key={i} error={p.error} /> : null))}
      {pages[0]?.isPending ? <p className="text-sm text-zinc-500">Loading the audit log…</p> : null}
      {pages[0]?.data?.length === 0 ? <p className="text-sm text-zinc-600 dark:text-zinc-400">{filtered ? "No event matches these filters." : "Nothing has been recorded yet."}</p> : null}
      {events.length > 0 ? <AuditTable events={events} /> : null}
      {last?.data?.length === PAGE && oldest !== undefined ? (
        <Button variant="secondary" className="mt-3" disabled={last.isFetching} onClick={() => setCursors((c) => [...c, oldest])}>
          {last.isFetching ? "Loading…" : "Show older events"}
        </Button>
      ) : null}
    </>
  );
}

export function AuditLog() {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const filters = filtersOf(params);
  const key = queryOf(filters);
  return (
    <>
      <PageHeader title="Audit log" description="Who did what, when: every change with its before and after, sign-ins, users, tokens and nodes. Newest first." />
      <AuditFilterForm value={filters} onApply={(next) => router.push(queryOf(next) === "" ? pathname : `${pathname}?${queryOf(next)}`)} />
      <Events key={key} filters={filters} />
    </>
  );
}
