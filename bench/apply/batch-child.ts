// bench/apply/batch-child.ts N: the agent's full replace of bench/apply's config at N farms ×
// 4 backends as its netlink batch (packages/agent/src/nft/netlink/replace.ts), encoded, sent and
// committed in the network namespace it runs in (`ip netns exec NS node --import tsx …`), cold
// (the first encode of the process, as the agent's first replace after start), then again over
// the table just loaded (a full re-apply). Prints ChildTimes as JSON.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildRuleset, parseConfig } from "@switchyard/core";
import { encodeReplace } from "../../packages/agent/src/nft/netlink/replace.ts";
import { openReplaceSender } from "../../packages/agent/src/nft/netlink/replace-send.ts";
import { summarize } from "../dataplane/stats.ts";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { BACKENDS, TABLE } from "./changes.ts";

/** This file, to run inside a namespace. */
export const BATCH_CHILD = fileURLToPath(import.meta.url);

const irAt = (n: number) => buildRuleset(parseConfig(switchyardConfig(planServices(n, BACKENDS), "weight")), { table: TABLE });

export interface ChildTimes {
  /** The first encode of the process (cold JIT), as the agent's first replace after start. */
  encodeMs: number;
  sendMs: number;
  bytes: number;
  /** The same replace again over the table just loaded (encode + send + commit): a full re-apply. */
  reapplyMs: number;
  /** Later encodes of the same IR (warm), the median of 3. */
  warmEncodeMs: number;
  tables: number;
}

/** Encodes and sends the replace of N farms in this network namespace; prints ChildTimes as JSON. */
export async function batchChild(n: number): Promise<void> {
  const ir = irAt(n);
  const sender = openReplaceSender();
  if (sender === null) throw new Error("cold-replace: the netlink sender did not load (koffi, libmnl)");
  let t = performance.now();
  const batch = encodeReplace(ir, TABLE);
  const encodeMs = performance.now() - t;
  if (batch === null) throw new Error("cold-replace: encodeReplace gave null for bench/apply's config");
  const bytes = batch.length;
  t = performance.now();
  await sender.send(batch);
  const sendMs = performance.now() - t;
  t = performance.now();
  await sender.send(encodeReplace(ir, TABLE) as Buffer);
  const reapplyMs = performance.now() - t;
  sender.close();
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    encodeReplace(ir, TABLE);
    warm.push(performance.now() - t);
  }
  const tables = execFileSync("nft", ["list", "tables"], { encoding: "utf8" }).trim().split("\n").length;
  const times: ChildTimes = { encodeMs, sendMs, reapplyMs, bytes, warmEncodeMs: summarize(warm).median, tables };
  process.stdout.write(JSON.stringify(times));
}


if (process.argv[1] === BATCH_CHILD) await batchChild(Number(process.argv[2] ?? 10000));
