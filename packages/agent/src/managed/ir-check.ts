import * as core from "@switchyard/core";
import type { IrRuleset } from "@switchyard/core";

// THE single place where a managed IR's rule text is checked before it is applied.
//
// core's `checkIr(ir, table)` (packages/core/src/ruleset/guard.ts, throwing `IrRejected`) is
// being written in parallel. When core exports it, it is used here as it is, with nothing
// else to change; until then a conservative interim check below refuses statement
// separators, unbalanced braces and jumps out of the table's own chains.
// TODO(guard): once core exports checkIr, replace this file's body with a direct call and
// delete interimCheckIr.

type CheckIr = (ir: IrRuleset, table: string) => void;

const coreCheckIr = (core as Record<string, unknown>).checkIr as CheckIr | undefined;

/** Throws (any Error: the Applier turns it into IrRefused → 400) when the IR must not be applied. */
export function checkManagedIr(ir: IrRuleset, table: string): void {
  if (typeof coreCheckIr === "function") coreCheckIr(ir, table);
  else interimCheckIr(ir, table);
}

const SEPARATORS = /[;\n\r#\0]/;
const TARGET = /\b(?:jump|goto)\s+([^\s,}]+)/g;
const DEVICE = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function interimCheckIr(ir: IrRuleset, table: string): void {
  for (const t of ir.tables) {
    const where = `table ${t.family} ${t.name}`;
    if (t.name !== table) throw new Error(`${where} is not the agent's table (${table})`);
    const chains = new Set(t.chains.map((c) => c.name));
    const checkText = (text: string, what: string, braces: boolean) => {
      if (SEPARATORS.test(text)) throw new Error(`${where}, ${what}: contains a statement separator (; newline or #)`);
      let depth = 0;
      for (const ch of text) {
        if (ch === "{") depth++;
        else if (ch === "}") depth--;
        if (depth < 0) break;
      }
      if (depth !== 0 || (!braces && /[{}]/.test(text))) throw new Error(`${where}, ${what}: unbalanced or unexpected braces`);
      for (const m of text.matchAll(TARGET)) {
        if (!chains.has(m[1] ?? "")) throw new Error(`${where}, ${what}: jumps to ${m[1]}, which is not a chain of this table`);
      }
    };
    for (const map of t.maps) {
      for (const [key, verdict] of map.elements) {
        checkText(key, `map ${map.name} key ${JSON.stringify(key)}`, false);
        checkText(verdict, `map ${map.name} verdict ${JSON.stringify(verdict)}`, false);
      }
    }
    for (const chain of t.chains) {
      if (chain.hook?.device !== undefined && !DEVICE.test(chain.hook.device)) {
        throw new Error(`${where}, chain ${chain.name}: device ${JSON.stringify(chain.hook.device)} is not an interface name`);
      }
      chain.rules.forEach((rule, i) => checkText(rule, `chain ${chain.name} rule ${i + 1}`, true));
    }
  }
}
