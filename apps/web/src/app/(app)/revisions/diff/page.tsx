import type { Metadata } from "next";
import { Suspense } from "react";
import { RevisionDiff } from "./revision-diff";

export const metadata: Metadata = { title: "Compare revisions" };

export default function RevisionDiffPage() {
  // The revisions to compare come from the URL (useSearchParams), known in the browser only.
  return (
    <Suspense fallback={<p className="text-sm text-zinc-500">Loading…</p>}>
      <RevisionDiff />
    </Suspense>
  );
}
