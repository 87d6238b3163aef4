"use client";
import type { State } from "@switchyard/core/schemas";
import { useId, type ComponentProps, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import type { BackendRow } from "./farm-form";
import { StateToggle } from "./state-toggle";

type Editable = Exclude<keyof BackendRow, "key" | "saved" | "state" | "other">;

/**
 * The farm's backends as rows of inputs, each labelled for its row ("Backend 2 address"), the
 * error under the input. A row's state toggle calls onState, which may save it at once.
 */
export function BackendsTable({
  rows,
  errors,
  readOnly,
  dsr,
  busyRow,
  onChange,
  onBlur,
  onState,
  onRemove,
}: {
  rows: BackendRow[];
  errors: (row: number, field: string) => string | undefined;
  readOnly: boolean;
  /** dsr farms need each backend's MAC address (or the node's neighbour table). */
  dsr: boolean;
  busyRow: number | null;
  onChange: (row: number, field: Editable, value: string) => void;
  onBlur: (row: number, field: string) => void;
  onState: (row: number, state: State) => void;
  onRemove: (row: number) => void;
}) {
  if (rows.length === 0) return <p className="text-sm text-zinc-500">No backends: the farm answers no connection until it has one that is up.</p>;
  const cell = (i: number, field: Editable, attribute: string, label: string, props: ComponentProps<"input"> = {}) => (
    <ErrorCell error={errors(i, attribute)}>
      {(describedBy) => (
        <Input
          aria-label={`Backend ${i + 1} ${label}`}
          aria-invalid={errors(i, attribute) !== undefined || undefined}
          aria-describedby={describedBy}
          value={rows[i]?.[field] ?? ""}
          readOnly={readOnly}
          onChange={(e) => onChange(i, field, e.target.value)}
          onBlur={() => onBlur(i, attribute)}
          spellCheck={false}
          autoComplete="off"
          {...props}
        />
      )}
    </ErrorCell>
  );
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm" aria-label="Backends">
        <thead className="text-xs text-zinc-600 dark:text-zinc-400">
          <tr>
            <th scope="col" className="w-8 py-1 pr-2 font-medium">#</th>
            <th scope="col" className="py-1 pr-2 font-medium">Name</th>
            <th scope="col" className="py-1 pr-2 font-medium">Address</th>
            <th scope="col" className="w-24 py-1 pr-2 font-medium">Port</th>
            <th scope="col" className="w-20 py-1 pr-2 font-medium">Weight</th>
            <th scope="col" className="w-20 py-1 pr-2 font-medium">Priority</th>
            {dsr ? <th scope="col" className="py-1 pr-2 font-medium">MAC address</th> : null}
            <th scope="col" className="py-1 pr-2 font-medium">State</th>
            {readOnly ? null : <th scope="col" className="py-1 font-medium"><span className="sr-only">Remove</span></th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={row.key} className="align-top">
              <td className="py-1 pr-2 pt-3 text-xs text-zinc-500 tabular-nums">{i + 1}</td>
              <td className="py-1 pr-2">{cell(i, "name", "name", "name", { className: "min-w-24" })}</td>
              <td className="py-1 pr-2">{cell(i, "ipAddr", "ip-addr", "address", { className: "min-w-36 font-mono", placeholder: "198.18.2.11" })}</td>
              <td className="py-1 pr-2">{cell(i, "port", "port", "port", { inputMode: "numeric", placeholder: "same" })}</td>
              <td className="py-1 pr-2">{cell(i, "weight", "weight", "weight", { inputMode: "numeric" })}</td>
              <td className="py-1 pr-2">{cell(i, "priority", "priority", "priority", { inputMode: "numeric" })}</td>
              {dsr ? <td className="py-1 pr-2">{cell(i, "etherAddr", "ether-addr", "MAC address", { className: "min-w-36 font-mono", placeholder: "from the node" })}</td> : null}
              <td className="py-1 pr-2 pt-2">
                <ErrorCell error={errors(i, "state")}>
                  {() => <StateToggle label={`Backend ${i + 1} state`} value={row.state} disabled={readOnly || busyRow === i} busy={busyRow === i} onChange={(state) => onState(i, state)} />}
                </ErrorCell>
              </td>
              {readOnly ? null : (
                <td className="py-1 pt-1.5">
                  <Button type="button" variant="ghost" size="sm" aria-label={`Remove backend ${i + 1}`} onClick={() => onRemove(i)}>
                    Remove
                  </Button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ErrorCell({ error, children }: { error: string | undefined; children: (describedBy: string | undefined) => ReactNode }) {
  const id = useId();
  return (
    <div className="space-y-0.5">
      {children(error !== undefined ? id : undefined)}
      {error !== undefined ? (
        <p id={id} role="alert" className="max-w-56 text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      ) : null}
    </div>
  );
}
