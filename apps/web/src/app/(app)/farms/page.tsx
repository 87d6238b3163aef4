import type { Metadata } from "next";
import { Suspense } from "react";
import { FarmsTable } from "./farms-table";

export const metadata: Metadata = { title: "Farms" };

export default function FarmsPage() {
  // The table reads its search and filters from the URL (useSearchParams): rendered in the browser.
  return (
    <Suspense fallback={<p className="text-sm text-zinc-500">Loading farms…</p>}>
      <FarmsTable />
    </Suspense>
  );
}
