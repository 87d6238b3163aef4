import * as C from "./constants.ts";

// What the kernel answers a batch with, read the same way by the chain refiller (refill.ts)
// and the full replace's sender (replace-send.ts).

const NLMSG_HDRLEN = 16;
const align4 = (n: number) => (n + 3) & ~3;

/** The kernel refused a batch (nothing changed), or its answer could not be read (state unknown). */
export class BatchError extends Error {
  constructor(
    message: string,
    /** The errno the kernel answered (positive), if it answered. */
    readonly errno: number | undefined,
    /** true when the batch may have been committed: the caller must re-read the ruleset. */
    readonly unknownOutcome: boolean,
  ) {
    super(message);
  }
}

/** The NLMSGERR_ATTR_MSG text of an extended ACK, if the kernel gave one. */
export function extAckMessage(buf: Buffer, off: number, len: number, flags: number): string | undefined {
  if ((flags & C.NLM_F_ACK_TLVS) === 0) return undefined;
  const NLM_F_CAPPED = 0x100;
  const inner = off + NLMSG_HDRLEN + 4;
  const innerLen = flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(buf.readUInt32LE(inner));
  let at = inner + innerLen;
  while (at + 4 <= off + len) {
    const alen = buf.readUInt16LE(at);
    const atype = buf.readUInt16LE(at + 2) & 0x3fff;
    if (alen < 4 || at + alen > off + len) break;
    if (atype === C.NLMSGERR_ATTR_MSG) return buf.toString("utf8", at + 4, at + alen).replace(/\0+$/, "");
    at += align4(alen);
  }
  return undefined;
}
