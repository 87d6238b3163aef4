"use client";
import { Collapsible } from "radix-ui";
import { useState } from "react";
import { Table, THead, Th, Tr } from "@/components/ui/table";
import type { NodeRow } from "./health";

type Facts = NonNullable<NodeRow["facts"]>;

const td = "py-1 pr-4 align-top";

function Columns({ names }: { names: string[] }) {
  return (
    <THead>
      {names.map((name) => (
        <Th key={name} className="py-1 pr-4">{name}</Th>
      ))}
    </THead>
  );
}

/** The node's interfaces (MAC, addresses) and neighbours as its agent last reported them, folded by default. */
export function NodeFacts({ node, canRefresh }: { node: NodeRow; canRefresh: boolean }) {
  const [open, setOpen] = useState(false);
  const facts: Facts | null = node.facts;
  if (facts === null) return <p className="text-sm text-zinc-500">Facts (interfaces, addresses, MACs) not read yet{canRefresh ? ": use “Refresh facts”" : ""}.</p>;
  const addresses = facts.interfaces.reduce((n, i) => n + i.addresses.length, 0);
  return (
    <Collapsible.Root open={open} onOpenChange={setOpen}>
      <Collapsible.Trigger className="flex items-center gap-1.5 rounded text-sm font-medium text-zinc-700 hover:underline focus-visible:outline-2 focus-visible:outline-blue-500 dark:text-zinc-300">
        <span aria-hidden className="inline-block w-3 text-xs">{open ? "▾" : "▸"}</span>
        Facts: {facts.interfaces.length} interfaces, {addresses} addresses, {facts.neighbours.length} neighbours
      </Collapsible.Trigger>
      <Collapsible.Content className="mt-2 space-y-3 overflow-x-auto text-sm">
        <Table caption={`Interfaces of ${node.name}`} bare>
          <Columns names={["Interface", "MAC", "Addresses"]} />
          <tbody className="font-mono text-xs">
            {facts.interfaces.map((i) => (
              <Tr key={i.name}>
                <td className={td}>{i.name}</td>
                <td className={td}>{i.mac ?? "—"}</td>
                <td className={td}>{i.addresses.length > 0 ? i.addresses.join(", ") : "—"}</td>
              </Tr>
            ))}
          </tbody>
        </Table>
        {facts.neighbours.length > 0 ? (
          <Table caption="Neighbours (what dsr farms resolve backend MACs with)" captionClassName="py-1 text-left text-xs font-medium text-zinc-500" bare>
            <Columns names={["Address", "MAC", "Interface", "State"]} />
            <tbody className="font-mono text-xs">
              {facts.neighbours.map((n) => (
                <Tr key={`${n.dev}/${n.ip}`}>
                  <td className={td}>{n.ip}</td>
                  <td className={td}>{n.mac ?? "—"}</td>
                  <td className={td}>{n.dev}</td>
                  <td className={td}>{n.state || "—"}</td>
                </Tr>
              ))}
            </tbody>
          </Table>
        ) : null}
      </Collapsible.Content>
    </Collapsible.Root>
  );
}
