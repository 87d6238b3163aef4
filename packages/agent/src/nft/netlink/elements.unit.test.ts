import type { CounterValue } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import * as C from "./constants.ts";
import { scanDumpChunk } from "./dump.ts";
import { elementDumpRequest, readElementMessage } from "./elements.ts";
import { elementKey } from "./set-key.ts";

// The element dump's bytes: messages captured from kernel 6.18 (sets loaded by nft 1.0.6),
// and constructed ones for what our sets do not make. The kernel side as a whole is proven by
// elements.integration.test.ts.

const align4 = (n: number) => (n + 3) & ~3;
function attr(type: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const b = Buffer.alloc(align4(4 + body.length));
  b.writeUInt16LE(4 + body.length, 0);
  b.writeUInt16LE(type, 2);
  body.copy(b, 4);
  return b;
}
const u32be = (n: number) => Buffer.from(n.toString(16).padStart(8, "0"), "hex");
const u64be = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const NESTED = 0x8000;
const key = (type: number, hex: string) => attr(type | NESTED, attr(C.NFTA_DATA_VALUE, Buffer.from(hex, "hex")));
const expr = (name: string, data: Buffer) => Buffer.concat([attr(C.NFTA_EXPR_NAME, Buffer.from(`${name}\0`)), attr(C.NFTA_EXPR_DATA | NESTED, data)]);
const counter = (packets: bigint, bytes: bigint) => expr("counter", Buffer.concat([attr(C.NFTA_COUNTER_BYTES, u64be(bytes)), attr(C.NFTA_COUNTER_PACKETS, u64be(packets))]));

function message(type: number, seq: number, body: Buffer, flags = C.NLM_F_MULTI): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(20 + body.length, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt16LE(flags, 6);
  head.writeUInt32LE(seq, 8);
  head.writeUInt8(C.NFPROTO_INET, 16);
  return Buffer.concat([head, body]);
}
const NEWSETELEM = (C.NFNL_SUBSYS_NFTABLES << 8) | C.NFT_MSG_NEWSETELEM;
const elements = (seq: number, elems: Buffer[], flags?: number) =>
  message(
    NEWSETELEM,
    seq,
    Buffer.concat([
      attr(C.NFTA_SET_ELEM_LIST_TABLE, Buffer.from("t\0")),
      attr(C.NFTA_SET_ELEM_LIST_SET, Buffer.from("s\0")),
      attr(C.NFTA_SET_ELEM_LIST_ELEMENTS | NESTED, ...elems.map((e) => attr(C.NFTA_LIST_ELEM | NESTED, e))),
    ]),
    flags,
  );
const ending = (type: number, seq: number, errno: number) => {
  const b = Buffer.alloc(type === C.NLMSG_DONE ? 20 : 36);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(-errno, 16);
  return b;
};

function parse(chunk: Buffer, seq: number) {
  const into = new Map<string, CounterValue>();
  const result = scanDumpChunk(chunk, chunk.length, seq, (msg, buf, start, end) => {
    if (msg === C.NFT_MSG_NEWSETELEM) readElementMessage(buf, start, end, into);
  });
  return { result, into };
}

// `nft list` of these: r { 127.0.0.1 . udp . 1000-2000 . 127.0.0.1 . 1000-2000 counter packets 3 bytes 93 }
// (concatenated, interval); h { 198.18.128.1 . tcp . 80 . 198.18.2.11 . 80 counter packets 5 bytes 100 };
// s { type inet_service; flags interval; 10-20 counter packets 0 bytes 0, 30 counter packets 0 bytes 0 }.
// Each dump ends with one more NEWSETELEM holding an empty element list, then DONE.
const CAPTURED = {
  r: [
    "900000000c0a0200b4070c6b2306000001000002060001007400000006000200720000006c000300680001001c000100180001007f0000011100000003e800007f00000103e800001c000a00180001007f0000011100000007d000007f00000107d000002c0007000c000100636f756e746572001c0002000c000100000000000000005d0c0002000000000000000003",
    "280000000c0a0200b4070c6b23060000010000020600010074000000060002007200000004000300",
  ],
  h: [
    "740000000c0a0200b5070c6b230600000100000206000100740000000600020068000000500003004c0001001c00010018000100c61280010600000000500000c612020b005000002c0007000c000100636f756e746572001c0002000c00010000000000000000640c0002000000000000000005",
  ],
  // m3 { type ipv4_addr; limit rate 10/second; counter; 10.0.0.1 limit rate 10/second counter packets 0 bytes 0 }:
  // two expressions, so NFTA_SET_ELEM_EXPRESSIONS, the counter second.
  m3: [
    "ac0000000c0a02000b080c6b8a0f0000010000030600010074000000070002006d33000088000300840001000c000100080001000a00000174000b00440001000a0001006c696d6974000000340002000c000100000000000000000a0c00020000000000000000010800030000000005080004000000000008000500000000002c0001000c000100636f756e746572001c0002000c00010000000000000000000c0002000000000000000000",
  ],
  s: [
    "e80000000c0a0200b7070c6b230600000100000206000100740000000600020073000000c4000300180001000c00010006000100001f000008000300000000013c0001000c00010006000100001e00002c0007000c000100636f756e746572001c0002000c00010000000000000000000c0002000000000000000000180001000c000100060001000015000008000300000000013c0001000c00010006000100000a00002c0007000c000100636f756e746572001c0002000c00010000000000000000000c0002000000000000000000180001000c00010006000100000000000800030000000001",
  ],
};
const captured = (hex: string[]) => Buffer.concat(hex.map((h) => Buffer.from(h, "hex")));

describe("netlink set element dump", () => {
  it("asks for the elements of one set: GETSETELEM, dump, table and set names", () => {
    const b = elementDumpRequest("switchyard", "traffic4-ports", C.NFPROTO_INET, 7);
    expect(b.readUInt32LE(0)).toBe(b.length);
    expect(b.readUInt16LE(4)).toBe((10 << 8) | 13);
    expect(b.readUInt16LE(6)).toBe(0x301);
    expect(b.readUInt32LE(8)).toBe(7);
    expect(b.readUInt8(16)).toBe(1);
    expect(b.subarray(20).toString("hex")).toBe(`0f000100${Buffer.from("switchyard\0").toString("hex")}00` + `13000200${Buffer.from("traffic4-ports\0").toString("hex")}00`);
  });

  it("reads the kernel's own messages under the keys elementKey computes", () => {
    const seq = 0x6b0c07b4;
    const r = parse(captured(CAPTURED.r), seq);
    expect(r.result).toEqual({ done: false, interrupted: false, errno: 0 });
    const ports = "ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service";
    expect(r.into).toEqual(new Map([[elementKey(ports, true, "127.0.0.1 . udp . 1000-2000 . 127.0.0.1 . 1000-2000"), { packets: 3, bytes: 93 }]]));
    expect(parse(captured(CAPTURED.h), seq + 1).into).toEqual(new Map([[elementKey(ports, false, "198.18.128.1 . tcp . 80 . 198.18.2.11 . 80"), { packets: 5, bytes: 100 }]]));
    expect(parse(captured(CAPTURED.m3), 0x6b0c080b).into).toEqual(new Map([[elementKey("ipv4_addr", false, "10.0.0.1"), { packets: 0, bytes: 0 }]]));
    // An rbtree: each interval's start (with the counter) and its end element, flagged and skipped.
    expect(parse(captured(CAPTURED.s), seq + 3).into).toEqual(
      new Map([
        [elementKey("inet_service", true, "30"), { packets: 0, bytes: 0 }],
        [elementKey("inet_service", true, "10-20"), { packets: 0, bytes: 0 }],
      ]),
    );
  });

  it("takes the counter among several expressions, skips end, catch-all and counterless elements, and other sequence numbers", () => {
    const quota = expr("quota", attr(1, u64be(1000n)));
    const chunk = Buffer.concat([
      elements(4, [
        Buffer.concat([key(C.NFTA_SET_ELEM_KEY, "0a000001"), attr(C.NFTA_SET_ELEM_EXPRESSIONS | NESTED, attr(C.NFTA_LIST_ELEM | NESTED, quota), attr(C.NFTA_LIST_ELEM | NESTED, counter(2n ** 40n, 7n)))]),
        Buffer.concat([key(C.NFTA_SET_ELEM_KEY, "0a000002"), attr(C.NFTA_SET_ELEM_FLAGS, u32be(C.NFT_SET_ELEM_INTERVAL_END)), attr(C.NFTA_SET_ELEM_EXPR | NESTED, counter(1n, 1n))]),
        Buffer.concat([attr(C.NFTA_SET_ELEM_FLAGS, u32be(C.NFT_SET_ELEM_CATCHALL)), attr(C.NFTA_SET_ELEM_EXPR | NESTED, counter(1n, 1n))]),
        key(C.NFTA_SET_ELEM_KEY, "0a000003"),
        Buffer.concat([key(C.NFTA_SET_ELEM_KEY, "0a000004"), key(C.NFTA_SET_ELEM_KEY_END, "0a000005"), attr(C.NFTA_SET_ELEM_EXPR | NESTED, counter(9n, 900n))]),
      ]),
      elements(3, [Buffer.concat([key(C.NFTA_SET_ELEM_KEY, "0a0000ff"), attr(C.NFTA_SET_ELEM_EXPR | NESTED, counter(1n, 1n))])]),
      ending(C.NLMSG_DONE, 4, 0),
    ]);
    const { result, into } = parse(chunk, 4);
    expect(result).toEqual({ done: true, interrupted: false, errno: 0 });
    expect(into).toEqual(
      new Map([
        ["0a000001", { packets: 2 ** 40, bytes: 7 }],
        ["0a000004-0a000005", { packets: 9, bytes: 900 }],
      ]),
    );
  });

  it("reports an interrupted dump, a refusal and a dump that ended in an error", () => {
    const intr = elements(6, [Buffer.concat([key(C.NFTA_SET_ELEM_KEY, "0a000001"), attr(C.NFTA_SET_ELEM_EXPR | NESTED, counter(1n, 1n))])], C.NLM_F_MULTI | C.NLM_F_DUMP_INTR);
    expect(parse(intr, 6).result).toEqual({ done: false, interrupted: true, errno: 0 });
    expect(parse(ending(C.NLMSG_ERROR, 6, 2), 6).result).toEqual({ done: true, interrupted: false, errno: 2 });
    expect(parse(ending(C.NLMSG_DONE, 6, 12), 6).result).toEqual({ done: true, interrupted: false, errno: 12 });
  });
});
