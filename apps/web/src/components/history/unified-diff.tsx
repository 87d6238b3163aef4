"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/cn";
import { downloadText } from "@/lib/download";

// A unified diff (as revisions.renderedDiff gives it) line by line: additions green, removals
// red, hunk headers blue, in a scrollable monospace block that keeps long nft lines whole.
// A diff of 10,000 farms is 100,000 lines: the page shows a part and the rest on request.

const PAGE = 4_000;

function lineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("====")) return "text-zinc-500";
  if (line.startsWith("@@")) return "bg-blue-50 text-blue-800 dark:bg-blue-950 dark:text-blue-300";
  if (line.startsWith("+")) return "bg-green-50 text-green-900 dark:bg-green-950 dark:text-green-200";
  if (line.startsWith("-")) return "bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-200";
  return "text-zinc-700 dark:text-zinc-300";
}

export function UnifiedDiff({ diff, label, fileName }: { diff: string; label: string; fileName: string }) {
  const [limit, setLimit] = useState(PAGE);
  // createTwoFilesPatch starts with an "Index:" line and a rule; the file names follow in ---/+++.
  const lines = diff.split("\n").filter((line, i) => !(i < 2 && (line.startsWith("Index:") || line.startsWith("===="))));
  while (lines.at(-1) === "") lines.pop();
  return (
    <div className="space-y-2">
      <pre aria-label={label} tabIndex={0} className="max-h-[32rem] overflow-auto rounded-md border border-zinc-200 bg-white py-2 font-mono text-xs leading-5 focus-visible:outline-2 focus-visible:outline-blue-500 dark:border-zinc-800 dark:bg-zinc-950">
        {lines.slice(0, limit).map((line, i) => (
          <div key={i} className={cn("min-w-max px-3 whitespace-pre", lineClass(line))}>
            {line === "" ? " " : line}
          </div>
        ))}
      </pre>
      <div className="flex flex-wrap items-center gap-2 text-sm text-zinc-600 dark:text-zinc-400">
        {lines.length > limit ? (
          <>
            <span>{(lines.length - limit).toLocaleString("en")} more lines not shown.</span>
            <Button variant="secondary" size="sm" onClick={() => setLimit((l) => l + PAGE * 5)}>Show more lines</Button>
          </>
        ) : null}
        <Button variant="ghost" size="sm" onClick={() => downloadText(fileName, diff, "text/x-diff")}>Download the diff</Button>
      </div>
    </div>
  );
}
