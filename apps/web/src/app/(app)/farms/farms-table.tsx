"use client";
import { MODES, PROTOCOLS, STATES } from "@switchyard/core/enums";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { Badge, StateBadge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ErrorNote, PageHeader } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Input, Select } from "@/components/ui/input";
import { cn } from "@/lib/cn";
import { useTRPC, type Outputs } from "@/lib/trpc";
import { useCan } from "@/lib/viewer";
import { BulkStateBar } from "./bulk-state-bar";
import { PAGE_SIZES, pageInput, useListParams, type ListParams, type Sort } from "./list-params";

type Row = Outputs["farms"]["page"]["rows"][number];

/** How long typing may pause before the search runs: short, so that a search still answers within 200 ms. */
const SEARCH_DEBOUNCE_MS = 100;

const count = (n: number) => n.toLocaleString("en");

/** Every farm, searched, filtered, sorted and paged on the server; operators select rows to change their state. */
export function FarmsTable() {
  const trpc = useTRPC();
  const canEdit = useCan("operator");
  const [params, setParams] = useListParams();
  const page = useQuery(trpc.farms.page.queryOptions(pageInput(params), { placeholderData: keepPreviousData, refetchInterval: 15_000 }));
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);

  // A selection belongs to one search: what the new filters hide must not be changed unseen.
  const filterKey = JSON.stringify([params.query, params.state, params.mode, params.protocol, params.degraded]);
  useEffect(() => {
    setSelected(new Set());
    setNotice(null);
  }, [filterKey]);
  // The editor sends a deleted farm's operator here with ?deleted=NAME&revision=N.
  useEffect(() => {
    const search = new URLSearchParams(window.location.search);
    const deleted = search.get("deleted");
    if (deleted === null) return;
    setNotice(`Farm ${deleted} deleted as revision ${search.get("revision") ?? "?"}; deploying to the nodes.`);
    search.delete("deleted");
    search.delete("revision");
    window.history.replaceState(null, "", `${window.location.pathname}${search.size > 0 ? `?${search}` : ""}`);
  }, []);

  const data = page.data;
  const rows = data?.rows ?? [];
  const pages = data === undefined ? 1 : Math.max(1, Math.ceil(data.total / params.size));
  // Past the last page (fewer farms match than when the URL was made): show the last one.
  const pastEnd = data !== undefined && !page.isPlaceholderData && params.page > pages;
  useEffect(() => {
    if (pastEnd) setParams({ page: pages });
  }, [pastEnd, pages, setParams]);
  const first = data === undefined || data.total === 0 ? 0 : data.offset + 1;
  const last = data === undefined ? 0 : data.offset + rows.length;

  return (
    <>
      <PageHeader
        title="Farms"
        description={
          data === undefined ? undefined : (
            <>
              {count(data.all)} farm{data.all === 1 ? "" : "s"} at revision {data.revision}: {count(data.states.up)} up, {count(data.states.down)} down, {count(data.states.off)} off
            </>
          )
        }
        actions={canEdit ? <Button asChild><Link href="/farms/-/new">New farm</Link></Button> : undefined}
      />

      <div className="mb-3 flex flex-wrap items-end gap-3" role="search" aria-label="Farms">
        <SearchBox value={params.query} onSearch={(query) => setParams({ query })} />
        <Filter label="State" value={params.state} values={STATES} all="All states" onChange={(state) => setParams({ state })} />
        <Filter label="Mode" value={params.mode} values={MODES} all="All modes" onChange={(mode) => setParams({ mode })} />
        <Filter label="Protocol" value={params.protocol} values={PROTOCOLS} all="All protocols" onChange={(protocol) => setParams({ protocol })} />
        <label className="flex h-9 items-center gap-2 text-sm">
          <Checkbox checked={params.degraded} onCheckedChange={(checked) => setParams({ degraded: checked === true })} />
          With a backend not up
        </label>
      </div>

      {canEdit && selected.size > 0 ? (
        <BulkStateBar
          selected={selected}
          revision={data?.revision}
          onClear={() => setSelected(new Set())}
          onDone={(what) => {
            setSelected(new Set());
            setNotice(what);
          }}
        />
      ) : null}
      <p role="status" className={cn("text-sm text-green-800 dark:text-green-300", notice !== null && "mb-3")}>{notice}</p>

      {page.isError ? <ErrorNote error={page.error} /> : null}

      <div className="overflow-x-auto rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
        <table className="w-full text-left text-sm" aria-label="Farms" aria-busy={page.isFetching && page.isPlaceholderData}>
          <thead className="border-b border-zinc-200 text-xs text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">
            <tr>
              {canEdit ? (
                <th scope="col" className="w-10 px-3 py-2">
                  <PageCheckbox rows={rows} selected={selected} onChange={setSelected} />
                </th>
              ) : null}
              <SortHeader label="Name" sortKey="name" params={params} onSort={(sort) => setParams({ sort })} />
              <SortHeader label="Virtual address" sortKey="address" params={params} onSort={(sort) => setParams({ sort })} />
              <th scope="col" className="px-3 py-2 font-medium">Protocol</th>
              <th scope="col" className="px-3 py-2 font-medium">Mode</th>
              <th scope="col" className="px-3 py-2 font-medium">Scheduler</th>
              <SortHeader label="State" sortKey="state" params={params} onSort={(sort) => setParams({ sort })} />
              <th scope="col" className="px-3 py-2 font-medium">Backends</th>
            </tr>
          </thead>
          <tbody className={cn(page.isFetching && page.isPlaceholderData && "opacity-70")}>
            {rows.map((row) => (
              <FarmRow key={row.name} row={row} canEdit={canEdit} selected={selected.has(row.name)} onSelect={(on) => setSelected(toggled(selected, row.name, on))} />
            ))}
          </tbody>
        </table>
        {data !== undefined && rows.length === 0 ? (
          <p className="px-4 py-6 text-center text-sm text-zinc-500">
            {data.all === 0 ? "No farms yet." : "No farm matches this search and these filters."}
          </p>
        ) : null}
        {page.isPending ? <p className="px-4 py-6 text-center text-sm text-zinc-500">Loading farms…</p> : null}
      </div>

      <nav aria-label="Pages" className="mt-3 flex flex-wrap items-center justify-between gap-3 text-sm">
        <p aria-live="polite" className="text-zinc-600 dark:text-zinc-400">
          {data === undefined ? "" : data.total === 0 ? "0 farms" : `${count(first)}–${count(last)} of ${count(data.total)}${data.total !== data.all ? " matching" : ""}`}
        </p>
        <div className="flex items-center gap-2">
          <label className="flex items-center gap-2 text-zinc-600 dark:text-zinc-400">
            Rows per page
            <Select className="w-24" value={params.size} onChange={(e) => setParams({ size: Number(e.target.value) as ListParams["size"] })}>
              {PAGE_SIZES.map((size) => <option key={size} value={size}>{size}</option>)}
            </Select>
          </label>
          <Button variant="secondary" size="sm" disabled={params.page <= 1} onClick={() => setParams({ page: 1 })}>First</Button>
          <Button variant="secondary" size="sm" disabled={params.page <= 1} onClick={() => setParams({ page: params.page - 1 })}>Previous</Button>
          <span className="tabular-nums">Page {Math.min(params.page, pages)} of {count(pages)}</span>
          <Button variant="secondary" size="sm" disabled={params.page >= pages} onClick={() => setParams({ page: params.page + 1 })}>Next</Button>
          <Button variant="secondary" size="sm" disabled={params.page >= pages} onClick={() => setParams({ page: pages })}>Last</Button>
        </div>
      </nav>
    </>
  );
}

function toggled(set: ReadonlySet<string>, name: string, on: boolean): Set<string> {
  const next = new Set(set);
  if (on) next.add(name);
  else next.delete(name);
  return next;
}

/** The search box: what is typed shows at once; the search (and the URL) follow after a short pause. */
function SearchBox({ value, onSearch }: { value: string; onSearch: (query: string) => void }) {
  const [text, setText] = useState(value);
  const sent = useRef(value);
  const search = useRef(onSearch);
  search.current = onSearch;
  // Back, forward or a link changed the URL: show its search (but not an echo of our own).
  useEffect(() => {
    if (value !== sent.current) {
      sent.current = value;
      setText(value);
    }
  }, [value]);
  useEffect(() => {
    if (text === sent.current) return;
    const timer = setTimeout(() => {
      sent.current = text;
      search.current(text);
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <label className="flex min-w-64 flex-1 flex-col gap-1 text-sm font-medium text-zinc-800 dark:text-zinc-200">
      Search farms
      <Input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Name or virtual address" autoComplete="off" spellCheck={false} />
    </label>
  );
}

function Filter<T extends string>({ label, value, values, all, onChange }: { label: string; value: T | undefined; values: readonly T[]; all: string; onChange: (value: T | undefined) => void }) {
  return (
    <label className="flex flex-col gap-1 text-sm font-medium text-zinc-800 dark:text-zinc-200">
      {label}
      <Select className="w-40" value={value ?? ""} onChange={(e) => onChange(e.target.value === "" ? undefined : (e.target.value as T))}>
        <option value="">{all}</option>
        {values.map((v) => <option key={v} value={v}>{v}</option>)}
      </Select>
    </label>
  );
}

function SortHeader({ label, sortKey, params, onSort }: { label: string; sortKey: "name" | "address" | "state"; params: ListParams; onSort: (sort: Sort) => void }) {
  const current = params.sort.replace(/^-/, "") === sortKey ? (params.sort.startsWith("-") ? "descending" : "ascending") : undefined;
  return (
    <th scope="col" aria-sort={current ?? "none"} className="px-3 py-2 font-medium">
      <button
        type="button"
        onClick={() => onSort((current === "ascending" ? `-${sortKey}` : sortKey) as Sort)}
        className="inline-flex items-center gap-1 rounded hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-blue-500 dark:hover:text-zinc-100"
      >
        {label}
        <span aria-hidden="true" className="w-3 text-[10px]">{current === "ascending" ? "▲" : current === "descending" ? "▼" : ""}</span>
      </button>
    </th>
  );
}

function PageCheckbox({ rows, selected, onChange }: { rows: Row[]; selected: ReadonlySet<string>; onChange: (next: Set<string>) => void }) {
  const on = rows.filter((r) => selected.has(r.name)).length;
  const checked = rows.length > 0 && on === rows.length ? true : on > 0 ? "indeterminate" : false;
  return (
    <Checkbox
      aria-label="Select every farm on this page"
      checked={checked}
      disabled={rows.length === 0}
      onCheckedChange={() => {
        const next = new Set(selected);
        for (const r of rows) {
          if (checked === true) next.delete(r.name);
          else next.add(r.name);
        }
        onChange(next);
      }}
    />
  );
}

function FarmRow({ row, canEdit, selected, onSelect }: { row: Row; canEdit: boolean; selected: boolean; onSelect: (on: boolean) => void }) {
  return (
    <tr className={cn("border-b border-zinc-100 last:border-0 dark:border-zinc-800", selected && "bg-blue-50 dark:bg-blue-950/40")}>
      {canEdit ? (
        <td className="px-3 py-1.5">
          <Checkbox aria-label={`Select ${row.name}`} checked={selected} onCheckedChange={(checked) => onSelect(checked === true)} />
        </td>
      ) : null}
      <th scope="row" className="px-3 py-1.5 font-medium">
        <Link href={`/farms/${encodeURIComponent(row.name)}`} prefetch={false} className="text-blue-700 hover:underline focus-visible:outline-2 focus-visible:outline-blue-500 dark:text-blue-400">
          {row.name}
        </Link>
      </th>
      <td className="px-3 py-1.5 font-mono text-xs">
        {row.virtualAddr}
        {row.virtualAddr6 !== null ? <span className="block">{row.virtualAddr6}</span> : null}
        <span className="text-zinc-500"> {row.ports === "" ? "all ports" : `port${/[,-]/.test(row.ports) ? "s" : ""} ${row.ports}`}</span>
      </td>
      <td className="px-3 py-1.5">{row.protocol}</td>
      <td className="px-3 py-1.5">{row.mode}</td>
      <td className="px-3 py-1.5">{row.scheduler}</td>
      <td className="px-3 py-1.5"><StateBadge state={row.state} /></td>
      <td className="px-3 py-1.5"><BackendCounts backends={row.backends} /></td>
    </tr>
  );
}

function BackendCounts({ backends }: { backends: Row["backends"] }) {
  if (backends.total === 0) return <span className="text-zinc-500">none</span>;
  return (
    <span className="flex flex-wrap items-center gap-1.5">
      <span className="tabular-nums">{backends.up}/{backends.total} up</span>
      {backends.down > 0 ? <Badge tone="red">{backends.down} down</Badge> : null}
      {backends.off > 0 ? <Badge tone="gray">{backends.off} off</Badge> : null}
    </span>
  );
}
