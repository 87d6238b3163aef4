import type { CounterValues, IrChain, IrRuleset, IrTable } from "@switchyard/core";
import * as constants from "./constants.ts";
import { writeExpressions, type SetIds } from "./expr-encode.ts";
import { fixedRuleExprs, type SetInfo } from "./fixed-rules.ts";
import { NlWriter } from "./nl-writer.ts";
import { ruleExprs } from "./rule.ts";
import { planSet, writeElements, writeNewSet, type SetPlan } from "./set-encode.ts";

// A plain object: run through tsx, a module namespace's every member is a getter call, and
// the encoder reads these constants some million times a batch.
const C = { ...constants };

// The agent's full replace (core's renderReplaceScript) as one nf_tables batch, encoded here
// rather than parsed by nft: at 10,000 farms nft spends ~0.8 s of user time in its parser,
// evaluation and cache before the kernel sees anything. The batch is the one nft 1.0.6 sends
// for the same script, message for message and byte for byte (but for sequence numbers):
//   BATCH_BEGIN
//   NEWTABLE inet T, DELTABLE inet T, NEWTABLE netdev T, DELTABLE netdev T   (the reset: create
//                                         if missing, so that the delete cannot fail; delete)
//   NEWTABLE inet T, NEWCHAIN each chain, NEWOBJ each named counter (seeded),
//   NEWSET + NEWSETELEM each map/set (ids from 1, elements seeded as render.ts seeds them),
//   NEWRULE each rule, chain by chain
//   BATCH_END
// replace.integration.test.ts holds it against nft's own bytes (--debug=mnl) and the listings.

/** nft reads these bare (plan.ts's NAME): anything else would need quoting, and goes to nft. */
const NAME = /^[A-Za-z_.][A-Za-z0-9_./-]{0,254}$/;
const PRIORITY_MIN = -(2 ** 31);
const PRIORITY_MAX = 2 ** 31 - 1;
const HOOK_TYPES = new Set(["nat", "filter"]);

const msgType = (m: number) => (C.NFNL_SUBSYS_NFTABLES << 8) | m;

function writeTable(w: NlWriter, seq: number, type: number, family: number, table: string): void {
  const at = w.begin(msgType(type), C.NLM_F_REQUEST, seq, family);
  w.strz(C.NFTA_TABLE_NAME, table);
  if (type === C.NFT_MSG_NEWTABLE) w.u32(C.NFTA_TABLE_FLAGS, 0);
  w.end(at);
}

function writeChain(w: NlWriter, seq: number, table: string, chain: IrChain): void {
  const at = w.begin(msgType(C.NFT_MSG_NEWCHAIN), C.NLM_F_REQUEST | C.NLM_F_CREATE, seq, C.NFPROTO_INET);
  w.strz(C.NFTA_CHAIN_TABLE, table);
  w.strz(C.NFTA_CHAIN_NAME, chain.name);
  const hook = chain.hook;
  if (hook !== undefined) {
    w.strz(C.NFTA_CHAIN_TYPE, hook.type);
    w.u32(C.NFTA_CHAIN_POLICY, C.NF_ACCEPT);
    const h = w.nest(C.NFTA_CHAIN_HOOK);
    w.u32(C.NFTA_HOOK_HOOKNUM, C.NF_INET_HOOKS[hook.hook] as number);
    w.u32(C.NFTA_HOOK_PRIORITY, hook.priority);
    w.nestEnd(h);
  }
  w.end(at);
}

function writeCounter(w: NlWriter, seq: number, table: string, name: string, counters: CounterValues | undefined): void {
  const at = w.begin(msgType(C.NFT_MSG_NEWOBJ), C.NLM_F_REQUEST | C.NLM_F_CREATE, seq, C.NFPROTO_INET);
  w.strz(C.NFTA_OBJ_TABLE, table);
  w.strz(C.NFTA_OBJ_NAME, name);
  w.u32(C.NFTA_OBJ_TYPE, C.NFT_OBJECT_COUNTER);
  const v = counters?.get(name);
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
  const start = v !== undefined && ok(v.packets) && ok(v.bytes) ? v : { packets: 0, bytes: 0 };
  const d = w.nest(C.NFTA_OBJ_DATA);
  w.u64(C.NFTA_COUNTER_BYTES, start.bytes);
  w.u64(C.NFTA_COUNTER_PACKETS, start.packets);
  w.nestEnd(d);
  w.end(at);
}

/** Whether everything but the rules is of a kind encoded here; the rules are checked as they are written. */
function supportedTable(t: IrTable, table: string): boolean {
  if (t.family !== "inet" || t.name !== table) return false;
  for (const c of t.chains) {
    if (!NAME.test(c.name)) return false;
    const h = c.hook;
    if (h === undefined) continue;
    if (h.device !== undefined || !HOOK_TYPES.has(h.type) || !Object.hasOwn(C.NF_INET_HOOKS, h.hook)) return false;
    if (!Number.isInteger(h.priority) || h.priority < PRIORITY_MIN || h.priority > PRIORITY_MAX) return false;
    // nat chains take only these hooks in an inet table; a filter chain any of them.
    if (h.type === "nat" && h.hook === "forward") return false;
  }
  return (t.counters ?? []).every((n) => NAME.test(n)) && t.maps.every((m) => NAME.test(m.name));
}

/**
 * The whole transaction of `renderReplaceScript(ir, table, counters)` as one netlink batch
 * (BATCH_BEGIN ... BATCH_END, sequence numbers from 0: the sender renumbers them), or null
 * when the IR holds anything not encoded here: a netdev table (dsr), a table of another name,
 * a map of another kind, a rule that is not one of the known shapes. Null means: use nft -f.
 */
export function encodeReplace(ir: IrRuleset, table: string, counters?: CounterValues): Buffer | null {
  if (!NAME.test(table) || ir.tables.length !== 1) return null;
  const t = ir.tables[0] as IrTable;
  if (!supportedTable(t, table)) return null;

  const plans: SetPlan[] = [];
  for (const map of t.maps) {
    const plan = planSet(map, plans.length + 1);
    if (plan === null) return null;
    plans.push(plan);
  }
  const setIds: SetIds = new Map(plans.map((p) => [p.map.name, p.id]));
  const setInfo: SetInfo = (name) => {
    const p = plans.find((x) => x.map.name === name);
    return p === undefined ? undefined : { interval: p.map.interval };
  };

  // Sized for the whole batch up front (it is copied at every doubling otherwise): a rule
  // takes up to 400 bytes, an element up to 120.
  const rules = t.chains.reduce((n, c) => n + c.rules.length, 0);
  const elements = t.maps.reduce((n, m) => n + m.elements.length, 0);
  const w = new NlWriter(4096 + 400 * rules + 120 * elements + 256 * (t.chains.length + (t.counters?.length ?? 0) + t.maps.length));
  let seq = 0;
  const batch = (type: number) => {
    const at = w.begin(type, C.NLM_F_REQUEST, seq++, C.NFPROTO_UNSPEC, C.NFNL_SUBSYS_NFTABLES);
    w.end(at);
  };
  batch(C.NFNL_MSG_BATCH_BEGIN);
  writeTable(w, seq++, C.NFT_MSG_NEWTABLE, C.NFPROTO_INET, table);
  writeTable(w, seq++, C.NFT_MSG_DELTABLE, C.NFPROTO_INET, table);
  writeTable(w, seq++, C.NFT_MSG_NEWTABLE, C.NFPROTO_NETDEV, table);
  writeTable(w, seq++, C.NFT_MSG_DELTABLE, C.NFPROTO_NETDEV, table);
  writeTable(w, seq++, C.NFT_MSG_NEWTABLE, C.NFPROTO_INET, table);
  for (const chain of t.chains) writeChain(w, seq++, table, chain);
  for (const name of t.counters ?? []) writeCounter(w, seq++, table, name, counters);
  const seeded = new Set<string>();
  for (const plan of plans) {
    writeNewSet(w, seq++, table, plan);
    const next = writeElements(w, seq, table, plan, counters, seeded);
    if (next === null) return null;
    seq = next;
  }

  // Core interns its rule texts (the same scheduler rule, the same `drop` in every farm): each
  // text is parsed and encoded once, later copies are the same bytes, copied from the first.
  const encoded = new Map<string, [number, number]>();
  for (const chain of t.chains) {
    for (const rule of chain.rules) {
      const at = w.begin(msgType(C.NFT_MSG_NEWRULE), C.NLM_F_REQUEST | C.NLM_F_CREATE | C.NLM_F_APPEND, seq++, C.NFPROTO_INET);
      w.strz(C.NFTA_RULE_TABLE, table);
      w.strz(C.NFTA_RULE_CHAIN, chain.name);
      const before = encoded.get(rule);
      if (before === undefined) {
        const parsed = ruleExprs(rule) ?? fixedRuleExprs(rule, setInfo);
        if (parsed === null) return null;
        const start = w.off;
        writeExpressions(w, parsed, setIds);
        encoded.set(rule, [start, w.off]);
      } else w.again(before[0], before[1]);
      w.end(at);
    }
  }
  batch(C.NFNL_MSG_BATCH_END);
  return w.buf.subarray(0, w.off);
}
