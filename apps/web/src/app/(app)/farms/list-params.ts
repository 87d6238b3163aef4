"use client";
import type { AppRouter } from "@switchyard/api";
import { MODES, PROTOCOLS, STATES } from "@switchyard/core/enums";
import type { inferRouterInputs } from "@trpc/server";
import { usePathname, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

// The farms table's search, filters, order and page live in the URL (?q=web&state=down&page=3),
// so that a view can be shared, reloaded and gone back to. They change through
// history.replaceState, which Next's router follows without fetching the page again.

export type PageInput = inferRouterInputs<AppRouter>["farms"]["page"];
export type Sort = NonNullable<PageInput["sort"]>;

export const SORTS = ["name", "-name", "address", "-address", "state", "-state", "created", "-created"] as const satisfies readonly Sort[];
export const PAGE_SIZES = [50, 100, 200] as const;

export interface ListParams {
  query: string;
  state: PageInput["state"];
  mode: PageInput["mode"];
  protocol: PageInput["protocol"];
  degraded: boolean;
  sort: Sort;
  /** From 1. */
  page: number;
  size: (typeof PAGE_SIZES)[number];
}

const oneOf = <T extends string>(values: readonly T[], value: string | null): T | undefined => (values as readonly (string | null)[]).includes(value) ? (value as T) : undefined;

function read(search: URLSearchParams): ListParams {
  const page = Number(search.get("page"));
  const size = Number(search.get("size"));
  return {
    query: search.get("q") ?? "",
    state: oneOf(STATES, search.get("state")),
    mode: oneOf(MODES, search.get("mode")),
    protocol: oneOf(PROTOCOLS, search.get("protocol")),
    degraded: search.get("degraded") === "1",
    sort: oneOf(SORTS, search.get("sort")) ?? "name",
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    size: (PAGE_SIZES as readonly number[]).includes(size) ? (size as ListParams["size"]) : 50,
  };
}

function write(params: ListParams): string {
  const search = new URLSearchParams();
  if (params.query !== "") search.set("q", params.query);
  if (params.state) search.set("state", params.state);
  if (params.mode) search.set("mode", params.mode);
  if (params.protocol) search.set("protocol", params.protocol);
  if (params.degraded) search.set("degraded", "1");
  if (params.sort !== "name") search.set("sort", params.sort);
  if (params.page !== 1) search.set("page", String(params.page));
  if (params.size !== 50) search.set("size", String(params.size));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}

/** The table's parameters and a setter; any change but the page's own goes back to page 1. */
export function useListParams(): [ListParams, (change: Partial<ListParams>) => void] {
  const search = useSearchParams();
  const pathname = usePathname();
  const params = useMemo(() => read(new URLSearchParams(search.toString())), [search]);
  const set = useCallback(
    (change: Partial<ListParams>) => {
      const next = { ...read(new URLSearchParams(window.location.search)), ...change };
      if (!("page" in change)) next.page = 1;
      window.history.replaceState(null, "", `${pathname}${write(next)}`);
    },
    [pathname],
  );
  return [params, set];
}

/** The procedure's input for these parameters. */
export function pageInput(params: ListParams): PageInput {
  return {
    query: params.query,
    ...(params.state ? { state: params.state } : {}),
    ...(params.mode ? { mode: params.mode } : {}),
    ...(params.protocol ? { protocol: params.protocol } : {}),
    degraded: params.degraded,
    sort: params.sort,
    offset: (params.page - 1) * params.size,
    limit: params.size,
  };
}
