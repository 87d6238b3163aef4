import { mapValueOf, type CounterValues, type IrMap } from "@switchyard/core";
import * as constants from "./constants.ts";
import type { NlWriter } from "./nl-writer.ts";
import { keyLayout, writeElementKey, type KeyLayout } from "./set-key.ts";

// A plain object: run through tsx, a module namespace's every member is a getter call, and
// the encoder reads these constants some million times a batch.
const C = { ...constants };

// An IR map -> NEWSET and its NEWSETELEM messages, as nft 1.0.6 (libnftnl 1.2.4) sends them
// for renderTable's `map`/`set` block: attributes, their order, the set's user data (which
// `nft list` reads back to print the key's type), the elements split into messages as
// libnftnl splits them. Verdict maps (`: verdict`) and counted sets (`counter`), keys of
// ipv4_addr, ipv6_addr, inet_proto and inet_service; anything else is null (nft does it).

/** nft's datatype ids (enum datatypes) and each field's size in the key. */
const TYPES: Record<string, { id: number; width: number }> = {
  ipv4_addr: { id: 7, width: 4 },
  ipv6_addr: { id: 8, width: 16 },
  inet_proto: { id: 12, width: 1 },
  inet_service: { id: 13, width: 2 },
};
/** nft composes a concatenation's type id field by field, TYPE_BITS apart. */
const TYPE_BITS = 6;

/**
 * NFTA_SET_USERDATA, nftnl_udata records (type byte, length byte, value): the key's byte
 * order (NFTNL_UDATA_SET_KEYBYTEORDER: 2 big-endian for an address, 0 for a concatenation),
 * a map's data byte order (0), a concatenation's typeof record (expression type 13, no
 * members), a map's data-interval flag (0). Taken from nft's own messages, per kind of set.
 */
const UDATA = {
  mapConcat: Buffer.from("000400000000010400000000030800040d0000000100060400000000", "hex"),
  mapAddress: Buffer.from("000402000000010400000000060400000000", "hex"),
  countedConcat: Buffer.from("000400000000030800040d0000000100", "hex"),
};

/** What the encoder needs of one set, computed once. */
export interface SetPlan {
  map: IrMap;
  id: number;
  counted: boolean;
  fields: { id: number; width: number }[];
  layout: KeyLayout;
}

const GOTO = "goto ";
const VERDICT = /^goto ([A-Za-z_.][A-Za-z0-9_./-]{0,254})$/;

/** The set's plan, or null when it is not a kind encoded here. */
export function planSet(map: IrMap, id: number): SetPlan | null {
  const value = mapValueOf(map);
  if (value === "counter") return null;
  const names = map.key.split(" . ");
  const fields = names.map((n) => (Object.hasOwn(TYPES, n) ? TYPES[n] : undefined));
  if (fields.some((f) => f === undefined)) return null;
  const concat = fields.length > 1;
  // A single-field interval set is an rbtree that nft feeds start and end elements, merged
  // and sorted by nft itself: not reproduced here.
  if (map.interval && !concat) return null;
  // User data is known for these kinds only (what core builds).
  if (!concat && (value === "counted" || (names[0] !== "ipv4_addr" && names[0] !== "ipv6_addr"))) return null;
  const layout = keyLayout(map.key, map.interval);
  if (layout === null) return null;
  // Element keys are checked as they are written (writeElements), verdicts here.
  if (value === "verdict" && !map.elements.every(([, v]) => VERDICT.test(v))) return null;
  return { map, id, counted: value === "counted", fields: fields as SetPlan["fields"], layout };
}

export function writeNewSet(w: NlWriter, seq: number, table: string, plan: SetPlan): void {
  const { map, fields } = plan;
  const concat = fields.length > 1;
  const at = w.begin((C.NFNL_SUBSYS_NFTABLES << 8) | C.NFT_MSG_NEWSET, C.NLM_F_REQUEST | C.NLM_F_CREATE, seq, C.NFPROTO_INET);
  w.strz(C.NFTA_SET_TABLE, table);
  w.strz(C.NFTA_SET_NAME, map.name);
  const flags = (plan.counted ? 0 : C.NFT_SET_MAP) | (map.interval ? C.NFT_SET_INTERVAL | C.NFT_SET_CONCAT : 0);
  w.u32(C.NFTA_SET_FLAGS, flags);
  w.u32(C.NFTA_SET_KEY_TYPE, fields.reduce((type, f) => (type * (1 << TYPE_BITS) + f.id) >>> 0, 0));
  w.u32(C.NFTA_SET_KEY_LEN, fields.reduce((sum, f) => sum + (concat ? (f.width + 3) & ~3 : f.width), 0));
  if (!plan.counted) {
    w.u32(C.NFTA_SET_DATA_TYPE, C.NFT_DATA_VERDICT);
    w.u32(C.NFTA_SET_DATA_LEN, 0);
  }
  w.u32(C.NFTA_SET_ID, plan.id);
  if (map.interval) {
    const desc = w.nest(C.NFTA_SET_DESC);
    const list = w.nest(C.NFTA_SET_DESC_CONCAT);
    for (const f of fields) {
      const elem = w.nest(C.NFTA_LIST_ELEM);
      w.u32(C.NFTA_SET_FIELD_LEN, f.width);
      w.nestEnd(elem);
    }
    w.nestEnd(list);
    w.nestEnd(desc);
  }
  w.bytes(C.NFTA_SET_USERDATA, plan.counted ? UDATA.countedConcat : concat ? UDATA.mapConcat : UDATA.mapAddress);
  if (plan.counted) {
    const expr = w.nest(C.NFTA_SET_EXPR);
    w.strz(C.NFTA_EXPR_NAME, "counter");
    w.nestEnd(w.nest(C.NFTA_EXPR_DATA));
    w.nestEnd(expr);
  }
  w.end(at);
}

/** A counted element's starting value: nft's `counter packets N bytes M` when the value is one nft takes (render.ts's counterStart). */
function startOf(counters: CounterValues | undefined, seeded: Set<string>, name: string): { packets: number; bytes: number } | undefined {
  if (counters === undefined || seeded.has(name)) return undefined;
  seeded.add(name);
  const v = counters.get(name);
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
  return v !== undefined && ok(v.packets) && ok(v.bytes) ? v : undefined;
}

function keyAttr(w: NlWriter, type: number, key: Uint8Array, len: number): void {
  const n = w.nest(type);
  w.bytesOf(C.NFTA_DATA_VALUE, key, len);
  w.nestEnd(n);
}

/** Scratch for one element's start and end keys (at most 5 fields of 16 bytes). */
const LOW = new Uint8Array(128);
const HIGH = new Uint8Array(128);

/**
 * The set's elements as NEWSETELEM messages; returns the next sequence number, or null when an
 * element's key does not match the set's type (nothing useful was written: the caller drops the batch). libnftnl ends a
 * message when an element would take NFTA_SET_ELEM_LIST_ELEMENTS past 65535 bytes (an
 * attribute's 16-bit length).
 */
export function writeElements(w: NlWriter, seq: number, table: string, plan: SetPlan, counters: CounterValues | undefined, seeded: Set<string>): number | null {
  const { elements } = plan.map;
  const { layout } = plan;
  if (layout.length > LOW.length) return null;
  const withEnd = layout.interval && layout.concatenated;
  let i = 0;
  // The element nests are numbered over the whole set, not per message, and an element that
  // did not fit takes a new number in the next message (libnftnl's counter moved on).
  let n = 0;
  while (i < elements.length) {
    const at = w.begin((C.NFNL_SUBSYS_NFTABLES << 8) | C.NFT_MSG_NEWSETELEM, C.NLM_F_REQUEST | C.NLM_F_CREATE, seq++, C.NFPROTO_INET);
    w.strz(C.NFTA_SET_ELEM_LIST_TABLE, table);
    w.strz(C.NFTA_SET_ELEM_LIST_SET, plan.map.name);
    w.u32(C.NFTA_SET_ELEM_LIST_SET_ID, plan.id);
    const list = w.nest(C.NFTA_SET_ELEM_LIST_ELEMENTS);
    for (; i < elements.length; ) {
      const [keyText, value] = elements[i] as [string, string];
      if (!writeElementKey(layout, keyText, LOW, HIGH)) return null;
      const start = w.off;
      const elem = w.nest(++n);
      keyAttr(w, C.NFTA_SET_ELEM_KEY, LOW, layout.length);
      if (withEnd) keyAttr(w, C.NFTA_SET_ELEM_KEY_END, HIGH, layout.length);
      if (!plan.counted) {
        const data = w.nest(C.NFTA_SET_ELEM_DATA);
        const verdict = w.nest(C.NFTA_DATA_VERDICT);
        w.u32(C.NFTA_VERDICT_CODE, C.NFT_GOTO);
        w.strzFrom(C.NFTA_VERDICT_CHAIN, value, GOTO.length);
        w.nestEnd(verdict);
        w.nestEnd(data);
      }
      const seed = plan.counted ? startOf(counters, seeded, value) : undefined;
      if (seed !== undefined) {
        const expr = w.nest(C.NFTA_SET_ELEM_EXPR);
        w.strz(C.NFTA_EXPR_NAME, "counter");
        const d = w.nest(C.NFTA_EXPR_DATA);
        w.u64(C.NFTA_COUNTER_BYTES, seed.bytes);
        w.u64(C.NFTA_COUNTER_PACKETS, seed.packets);
        w.nestEnd(d);
        w.nestEnd(expr);
      }
      if (w.off - list > 0xffff) {
        // It goes first into the next message, its seed with it.
        if (seed !== undefined) seeded.delete(value);
        w.off = start;
        break;
      }
      w.nestEnd(elem);
      i++;
    }
    w.nestEnd(list);
    w.end(at);
  }
  return seq;
}
