import { cn } from "@/lib/cn";

// A unified diff (as revisions.renderedDiff gives it) line by line: additions green, removals
// red, hunk headers blue, in a scrollable monospace block that keeps long nft lines whole.

function lineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("====")) return "text-zinc-500";
  if (line.startsWith("@@")) return "bg-blue-50 text-blue-800 dark:bg-blue-950 dark:text-blue-300";
  if (line.startsWith("+")) return "bg-green-50 text-green-900 dark:bg-green-950 dark:text-green-200";
  if (line.startsWith("-")) return "bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-200";
  return "text-zinc-700 dark:text-zinc-300";
}

export function UnifiedDiff({ diff, label }: { diff: string; label: string }) {
  // createTwoFilesPatch starts with an "Index:" line and a rule; the file names follow in ---/+++.
  const lines = diff.split("\n").filter((line, i) => !(i < 2 && (line.startsWith("Index:") || line.startsWith("===="))));
  while (lines.at(-1) === "") lines.pop();
  return (
    <pre aria-label={label} tabIndex={0} className="max-h-[32rem] overflow-auto rounded-md border border-zinc-200 bg-white py-2 font-mono text-xs leading-5 focus-visible:outline-2 focus-visible:outline-blue-500 dark:border-zinc-800 dark:bg-zinc-950">
      {lines.map((line, i) => (
        <div key={i} className={cn("min-w-max px-3 whitespace-pre", lineClass(line))}>
          {line === "" ? " " : line}
        </div>
      ))}
    </pre>
  );
}
