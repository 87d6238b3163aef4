import type { ConfigIssue } from "@switchyard/core/schemas";

/** Why a config was refused: one row per reason, located by farm, backend and field. */
export function IssueTable({ issues, caption }: { issues: ConfigIssue[]; caption: string }) {
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 dark:border-red-900 dark:bg-red-950">
      <p className="mb-2 text-sm font-medium text-red-800 dark:text-red-300">{caption}</p>
      <div className="max-h-80 overflow-auto">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{caption}</caption>
          <thead className="text-xs text-red-900/70 dark:text-red-300/70">
            <tr>
              <th scope="col" className="py-1 pr-3 font-medium">Farm</th>
              <th scope="col" className="py-1 pr-3 font-medium">Backend</th>
              <th scope="col" className="py-1 pr-3 font-medium">Field</th>
              <th scope="col" className="py-1 pr-3 font-medium">Value</th>
              <th scope="col" className="py-1 font-medium">Reason</th>
            </tr>
          </thead>
          <tbody className="text-red-950 dark:text-red-100">
            {issues.map((issue, i) => (
              <tr key={i} className="border-t border-red-200 align-top dark:border-red-900">
                <td className="py-1 pr-3 font-medium">{issue.farm ?? "—"}</td>
                <td className="py-1 pr-3">{issue.backend ?? "—"}</td>
                <td className="py-1 pr-3 font-mono text-xs whitespace-nowrap">{issue.field === "" ? "(file)" : issue.field}</td>
                <td className="py-1 pr-3 font-mono text-xs whitespace-nowrap">{issue.value === undefined ? "—" : JSON.stringify(issue.value)}</td>
                <td className="py-1">{issue.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
