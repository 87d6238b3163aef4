import type { ConfigIssue } from "@switchyard/core/schemas";
import { Table, THead, Th, Tr } from "@/components/ui/table";

/** Why a config was refused: one row per reason, located by farm, backend and field. */
export function IssueTable({ issues, caption }: { issues: ConfigIssue[]; caption: string }) {
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 dark:border-red-900 dark:bg-red-950">
      <p className="mb-2 text-sm font-medium text-red-800 dark:text-red-300">{caption}</p>
      <Table caption={caption} wrapperClassName="max-h-80 overflow-auto">
        <THead className="text-red-900/70 dark:text-red-300/70">
          <Th className="py-1 pr-3">Farm</Th>
          <Th className="py-1 pr-3">Backend</Th>
          <Th className="py-1 pr-3">Field</Th>
          <Th className="py-1 pr-3">Value</Th>
          <Th className="py-1">Reason</Th>
        </THead>
        <tbody className="text-red-950 dark:text-red-100">
          {issues.map((issue, i) => (
            <Tr key={i} className="border-red-200 align-top dark:border-red-900">
              <td className="py-1 pr-3 font-medium">{issue.farm ?? "—"}</td>
              <td className="py-1 pr-3">{issue.backend ?? "—"}</td>
              <td className="py-1 pr-3 font-mono text-xs whitespace-nowrap">{issue.field === "" ? "(file)" : issue.field}</td>
              <td className="py-1 pr-3 font-mono text-xs whitespace-nowrap">{issue.value === undefined ? "—" : JSON.stringify(issue.value)}</td>
              <td className="py-1">{issue.message}</td>
            </Tr>
          ))}
        </tbody>
      </Table>
    </div>
  );
}
