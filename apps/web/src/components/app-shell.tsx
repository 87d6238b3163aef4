"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { cn } from "@/lib/cn";
import { isUnauthorized } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";
import { ViewerContext, type Role } from "@/lib/viewer";
import { Button } from "./ui/button";
import { ErrorNote } from "./ui/card";

const NAV: { href: string; label: string; least?: Role }[] = [
  { href: "/", label: "Overview" },
  { href: "/farms", label: "Farms" },
  { href: "/revisions", label: "Revisions" },
  { href: "/deploys", label: "Deploys" },
  { href: "/nodes", label: "Nodes" },
  { href: "/traffic", label: "Traffic" },
  { href: "/audit", label: "Audit log" },
  { href: "/import", label: "Import / export" },
  { href: "/users", label: "Users & tokens", least: "admin" },
];

function active(pathname: string, href: string): boolean {
  return href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
}

/** Every page but sign-in: the navigation, who is signed in, and a redirect to sign-in without a session. */
export function AppShell({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { staleTime: 60_000 }));
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: () => {
        queryClient.clear();
        router.replace("/login");
      },
    }),
  );
  const signedOut = me.isError && isUnauthorized(me.error);
  useEffect(() => {
    if (signedOut) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [signedOut, router, pathname]);

  if (me.isPending || signedOut) return <p className="p-6 text-sm text-zinc-500">Loading…</p>;
  if (me.isError) return <div className="p-6"><ErrorNote error={me.error} /></div>;
  const viewer = { name: me.data.name, role: me.data.role as Role };
  const rank = { viewer: 0, operator: 1, admin: 2 } as const;

  return (
    <ViewerContext value={viewer}>
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-sm dark:focus:bg-zinc-900">
        Skip to content
      </a>
      <div className="flex min-h-screen">
        <aside className="w-52 shrink-0 border-r border-zinc-200 bg-white px-3 py-4 dark:border-zinc-800 dark:bg-zinc-900">
          <Link href="/" className="mb-5 block px-2 text-base font-bold tracking-tight">
            Switchyard
          </Link>
          <nav aria-label="Main">
            <ul className="space-y-0.5">
              {NAV.filter((item) => item.least === undefined || rank[viewer.role] >= rank[item.least]).map((item) => (
                <li key={item.href}>
                  <Link
                    href={item.href}
                    aria-current={active(pathname, item.href) ? "page" : undefined}
                    className={cn(
                      "block rounded-md px-2 py-1.5 text-sm text-zinc-700 hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-blue-500 dark:text-zinc-300 dark:hover:bg-zinc-800",
                      active(pathname, item.href) && "bg-zinc-100 font-medium text-zinc-950 dark:bg-zinc-800 dark:text-white",
                    )}
                  >
                    {item.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="mt-8 border-t border-zinc-200 px-2 pt-3 text-xs text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">
            <p>
              Signed in as <span className="font-medium text-zinc-900 dark:text-zinc-100" data-testid="viewer-name">{viewer.name}</span> ({viewer.role})
            </p>
            <Button variant="ghost" size="sm" className="mt-2 -ml-2" onClick={() => logout.mutate()}>
              Sign out
            </Button>
          </div>
        </aside>
        <main id="main" className="min-w-0 flex-1 px-6 py-5">
          {children}
        </main>
      </div>
    </ViewerContext>
  );
}
