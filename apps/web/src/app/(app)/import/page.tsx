import type { Metadata } from "next";
import { ExportCard } from "./export-card";
import { ImportCard } from "./import-card";

export const metadata: Metadata = { title: "Import / export" };

export default function ImportExportPage() {
  return (
    <>
      <div className="mb-4">
        <h1 className="text-xl font-semibold">Import / export</h1>
        <p className="mt-0.5 text-sm text-zinc-600 dark:text-zinc-400">nftlb&apos;s JSON configuration format, in and out: the file nftlb -c reads, and that bin/switchyard import and export use.</p>
      </div>
      <div className="grid gap-4 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <ImportCard />
        <ExportCard />
      </div>
    </>
  );
}
