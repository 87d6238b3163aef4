import * as C from "./constants.ts";
import { loadLibs, type Libs, type Ptr } from "./ffi.ts";

// One netfilter netlink socket of the calling process's network namespace, as the refiller and
// the counter dumper both open it: bound, with forced buffer sizes and a receive timeout.

export interface NetfilterSocket {
  libs: Libs;
  nl: Ptr;
  fd: number;
}

export interface SocketOptions {
  /** SO_SNDBUFFORCE, when the socket sends large batches. */
  sendBuffer?: number;
  receiveBuffer: number;
  /** SO_RCVTIMEO: a safety net, the kernel queues its answers before sendmsg returns. */
  timeoutSeconds: number;
  /** Short ACKs (no copy of our message) with the kernel's error text, for batches that want ACKs. */
  extendedAcks?: boolean;
}

/** The socket, or null when koffi, libnftnl or libmnl cannot be loaded or the socket cannot be opened. Throws nothing. */
export function openNetfilterSocket(options: SocketOptions): NetfilterSocket | null {
  try {
    const libs = loadLibs();
    if (libs === null) return null;
    const nl = libs.socketOpen(C.NETLINK_NETFILTER);
    if (nl === null) return null;
    if (libs.socketBind(nl, 0, 0) < 0) {
      libs.socketClose(nl);
      return null;
    }
    const fd = libs.socketFd(nl);
    const int = (value: number) => {
      const buffer = Buffer.alloc(4);
      buffer.writeInt32LE(value);
      return buffer;
    };
    if (options.extendedAcks) {
      libs.socketSetsockopt(nl, C.NETLINK_CAP_ACK, int(1), 4);
      libs.socketSetsockopt(nl, C.NETLINK_EXT_ACK, int(1), 4);
    }
    if (options.sendBuffer !== undefined) libs.setsockopt(fd, C.SOL_SOCKET, C.SO_SNDBUFFORCE, int(options.sendBuffer), 4);
    libs.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVBUFFORCE, int(options.receiveBuffer), 4);
    const timeout = Buffer.alloc(16);
    timeout.writeBigInt64LE(BigInt(options.timeoutSeconds), 0);
    libs.setsockopt(fd, C.SOL_SOCKET, C.SO_RCVTIMEO, timeout, 16);
    return { libs, nl, fd };
  } catch {
    return null;
  }
}
