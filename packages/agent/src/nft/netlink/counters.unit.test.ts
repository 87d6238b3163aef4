import { describe, expect, it } from "vitest";
import type { CounterValue } from "@switchyard/core";
import { CounterReader } from "../../counters.ts";
import { NftDriver } from "../driver.ts";
import * as C from "./constants.ts";
import { dumpRequest, parseDumpChunk } from "./counters.ts";

// The netlink counter dump's bytes; the kernel side is proven by counters.integration.test.ts
// (the agent reads its counters this way there).

const align4 = (n: number) => (n + 3) & ~3;

function attr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(align4(4 + payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}
const u32be = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64be = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};

function message(type: number, seq: number, body: Buffer, flags = C.NLM_F_MULTI): Buffer {
  const head = Buffer.alloc(16 + 4);
  head.writeUInt32LE(20 + body.length, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt16LE(flags, 6);
  head.writeUInt32LE(seq, 8);
  head.writeUInt8(C.NFPROTO_INET, 16);
  return Buffer.concat([head, body]);
}

const NEWOBJ = (C.NFNL_SUBSYS_NFTABLES << 8) | C.NFT_MSG_NEWOBJ;
const counter = (seq: number, name: string, packets: bigint, bytes: bigint, type = C.NFT_OBJECT_COUNTER, flags?: number) =>
  message(
    NEWOBJ,
    seq,
    Buffer.concat([
      attr(C.NFTA_OBJ_TABLE, Buffer.from("switchyard\0")),
      attr(C.NFTA_OBJ_NAME, Buffer.from(`${name}\0`)),
      attr(C.NFTA_OBJ_TYPE, u32be(type)),
      attr(C.NFTA_OBJ_DATA | 0x8000, Buffer.concat([attr(C.NFTA_COUNTER_BYTES, u64be(bytes)), attr(C.NFTA_COUNTER_PACKETS, u64be(packets))])),
    ]),
    flags,
  );
const done = (seq: number) => {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(20, 0);
  b.writeUInt16LE(C.NLMSG_DONE, 4);
  b.writeUInt16LE(C.NLM_F_MULTI, 6);
  b.writeUInt32LE(seq, 8);
  return b;
};

describe("netlink counter dump", () => {
  it("asks for the counters of one table: GETOBJ, dump, table name, type counter", () => {
    const b = dumpRequest("switchyard", C.NFPROTO_INET, 7);
    expect(b.readUInt32LE(0)).toBe(b.length);
    expect(b.readUInt16LE(4)).toBe((10 << 8) | 19);
    expect(b.readUInt16LE(6)).toBe(0x301);
    expect(b.readUInt32LE(8)).toBe(7);
    expect(b.readUInt8(16)).toBe(1);
    expect(b.subarray(20).toString("hex")).toBe(`0f000100${Buffer.from("switchyard\0").toString("hex")}00` + "0800030000000001");
  });

  it("reads names, packets and bytes; skips other objects and other sequence numbers; stops at DONE", () => {
    const into = new Map<string, CounterValue>();
    const chunk = Buffer.concat([counter(5, "c/web/b1", 30n, 1800n), counter(4, "stale", 1n, 1n), counter(5, "q", 1n, 1n, 2), counter(5, "c/web/b2", 2n ** 40n, 3n), done(5)]);
    expect(parseDumpChunk(chunk, chunk.length, 5, into)).toEqual({ done: true, interrupted: false });
    expect(into).toEqual(
      new Map([
        ["c/web/b1", { packets: 30, bytes: 1800 }],
        ["c/web/b2", { packets: 2 ** 40, bytes: 3 }],
      ]),
    );
    const part = counter(6, "x", 1n, 1n, C.NFT_OBJECT_COUNTER, C.NLM_F_MULTI | C.NLM_F_DUMP_INTR);
    expect(parseDumpChunk(part, part.length, 6, new Map())).toEqual({ done: false, interrupted: true });
  });

  it("a kernel error is thrown", () => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0);
    b.writeUInt16LE(C.NLMSG_ERROR, 4);
    b.writeUInt32LE(9, 8);
    b.writeInt32LE(-1, 16);
    expect(() => parseDumpChunk(b, b.length, 9, new Map())).toThrow(/errno 1/);
  });

  it("the reader falls back to nft when the dump fails", async () => {
    const json = '{"nftables": [{"counter": {"name": "c/web/b1", "packets": 4, "bytes": 240}}]}';
    const driver = new NftDriver({ run: async () => ({ stdout: json, stderr: "", code: 0 }) });
    const broken = { read: () => { throw new Error("boom"); }, close: () => {} };
    const fine = { read: () => new Map([["c/web/b1", { packets: 9, bytes: 1 }]]), close: () => {} };
    expect(await new CounterReader({ driver, table: "switchyard", dumper: broken }).values()).toEqual(new Map([["c/web/b1", { packets: 4, bytes: 240 }]]));
    expect(await new CounterReader({ driver, table: "switchyard", dumper: fine }).values()).toEqual(new Map([["c/web/b1", { packets: 9, bytes: 1 }]]));
  });
});
