import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditLog } from "./audit-log";

export const metadata: Metadata = { title: "Audit log" };

export default function AuditPage() {
  // The filters live in the URL (useSearchParams), known in the browser only.
  return (
    <Suspense fallback={<p className="text-sm text-zinc-500">Loading…</p>}>
      <AuditLog />
    </Suspense>
  );
}
