import type { NftOp } from "@switchyard/core";
import { NFT_MSG_DELRULE, NFT_MSG_NEWRULE } from "./constants.ts";
import { ruleExprs, type Expr } from "./rule.ts";

// NftOp[] -> the nf_tables messages of one batch, or null when any op is outside what the
// refiller sends itself. Pure: the caller checks everything before it sends anything.

/** One message of the batch: a flush (DELRULE on a chain) or an appended rule (NEWRULE). */
export type RefillMessage =
  | { type: typeof NFT_MSG_DELRULE; table: string; chain: string; op: NftOp }
  | { type: typeof NFT_MSG_NEWRULE; table: string; chain: string; exprs: Expr[]; op: NftOp };

/**
 * Names nft 1.0.6 reads as a bare identifier (its scanner's `string` token). Anything else
 * would need quoting in the nft script; such a chain is left to nft. 255 bytes is the
 * kernel's NFT_NAME_MAXLEN less the terminating NUL.
 */
const NAME = /^[A-Za-z_.][A-Za-z0-9_./-]{0,254}$/;

export function planRefill(ops: readonly NftOp[]): RefillMessage[] | null {
  const out: RefillMessage[] = [];
  for (const op of ops) {
    if (op.family !== "inet" || !NAME.test(op.table)) return null;
    if (op.op === "flush chain") {
      if (!NAME.test(op.chain)) return null;
      out.push({ type: NFT_MSG_DELRULE, table: op.table, chain: op.chain, op });
    } else if (op.op === "add rule") {
      if (!NAME.test(op.chain)) return null;
      const exprs = ruleExprs(op.rule);
      if (exprs === null) return null;
      out.push({ type: NFT_MSG_NEWRULE, table: op.table, chain: op.chain, exprs, op });
    } else return null;
  }
  return out;
}

/** An op as the nft command it stands for, for error messages. */
export function opText(op: NftOp): string {
  switch (op.op) {
    case "flush chain":
      return `flush chain ${op.family} ${op.table} ${op.chain}`;
    case "add rule":
      return `add rule ${op.family} ${op.table} ${op.chain} ${op.rule}`;
    default:
      return `${op.op} ${op.family} ${op.table}`;
  }
}
