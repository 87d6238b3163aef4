import { createRequire } from "node:module";
import { getHeapStatistics, setFlagsFromString } from "node:v8";

// V8 gives the system back a heap's free memory only after a full GC, and runs the GCs that
// shrink the heap (its memory reducer) only after 8 s of quiet, then backs off. After a burst
// of work at 10,000 farms (a cold apply: the build, a 6 MB script, a 9 MB state snapshot; a
// managed PUT: a 6 MB body parsed, checked, hashed and planned) the agent would sit on tens of
// megabytes of garbage and free pages for half a minute or more, sometimes until the next
// burst. bin/switchyard-agent runs node with --expose-gc, and the agent collects once it has
// been quiet for a second after such a burst: a pause of 10-50 ms at 10,000 farms, off the
// path of the changes that made the garbage (a request that arrives during it waits for it).
//
// A full GC frees the garbage but gives back only the pages left empty, and what a burst keeps
// (a managed agent's new IR, parsed among the request's garbage) is spread over most of them:
// this collection moves every live object together (V8's compact-on-every-full-gc, switched on
// for it alone: a plain boolean V8 reads when a full GC starts), which gives back 15-30 MB more
// at 10,000 farms for some 30 ms more.
//
// Memory outside V8's heap comes back on its own terms too: what node allocates with malloc (a
// request's body as it arrives, a 6 MB script on its way to nft, a state snapshot on its way to
// disk) goes back to glibc's arenas when freed, and glibc returns an arena's free pages to the
// system only at its top: 30-60 MB stayed resident after a few managed PUTs at 10,000 farms.
// glibc's malloc_trim(0) returns them all; it is called after the collection, through koffi
// (which the netlink fast path loads anyway), where there is a glibc.

type Collect = () => void;

/** glibc's malloc_trim(0), or undefined where it cannot be bound (no koffi binary, another libc). */
function bindMallocTrim(): Collect | undefined {
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    const trim = koffi.load("libc.so.6").func("int malloc_trim(size_t pad)") as (pad: number) => number;
    return () => void trim(0);
  } catch {
    return undefined;
  }
}

const gc = (globalThis as { gc?: Collect }).gc;

/** How long after the GC malloc_trim runs again. */
const TRIM_AFTER_MS = 250;

/** How long after a collection the memory it gave back is measured. */
const SETTLE_MS = 1_000;

/** node's gc() with compaction of the whole old generation, then malloc_trim; undefined without --expose-gc. */
function collector(): Collect | undefined {
  if (gc === undefined) return undefined;
  const mallocTrim = bindMallocTrim();
  return () => {
    setFlagsFromString("--compact-on-every-full-gc");
    try {
      gc();
    } finally {
      setFlagsFromString("--no-compact-on-every-full-gc");
    }
    if (mallocTrim === undefined) return;
    mallocTrim();
    // V8 frees the memory of the Buffers the GC found dead (their backing stores) on a helper
    // thread after the GC: once more when that is done (after a drift check, 15-20 MB more).
    setTimeout(mallocTrim, TRIM_AFTER_MS).unref();
  };
}

export interface HeapTrimmerOptions {
  /** How long the agent must have been quiet (no soon()) before it collects. */
  quietMs?: number;
  /** Collect only when the heap grew by this much since the last collection (less is left to V8). */
  minGrowthBytes?: number;
  /** The full GC; node's gc() when node runs with --expose-gc, else nothing is ever collected here. */
  collect?: Collect;
  /** What growth is measured on: by default the heap in use (garbage included) plus the resident memory. */
  used?: () => number;
}

export class HeapTrimmer {
  private readonly quietMs: number;
  private readonly minGrowth: number;
  private readonly collect: Collect | undefined;
  private readonly used: () => number;
  private timer: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  /** What `used` measured after the last collection, once what it freed was given back. */
  private floor = 0;

  constructor(options: HeapTrimmerOptions = {}) {
    this.quietMs = options.quietMs ?? 1_000;
    this.minGrowth = options.minGrowthBytes ?? 8 * 1024 * 1024;
    this.collect = "collect" in options ? options.collect : collector();
    // The heap in use, and the process's resident memory: memory outside the heap (a drift
    // check's listing read from nft, a request's body) counts too.
    this.used = options.used ?? (() => getHeapStatistics().used_heap_size + process.memoryUsage.rss());
  }

  /** Whether collections happen (node runs with --expose-gc). */
  get enabled(): boolean {
    return this.collect !== undefined;
  }

  /** Collects now, whatever the heap holds (start-up, before the agent serves anything). */
  now(): void {
    if (this.collect === undefined) return;
    this.collect();
    this.floor = this.used();
    // The resident memory goes down some time after the collection (V8 unmaps pages, and the
    // second malloc_trim runs, on their own time): the floor is measured again then, or the
    // next burst's growth would be measured from a floor still holding the last one's.
    if (this.settle !== null) clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.settle = null;
      this.floor = Math.min(this.floor, this.used());
    }, SETTLE_MS);
    this.settle.unref();
  }

  /** After some work: collects once nothing else called soon() for quietMs, if the heap grew enough. */
  soon(): void {
    if (this.collect === undefined) return;
    if (this.timer !== null) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.collect !== undefined && this.used() - this.floor >= this.minGrowth) this.now();
    }, this.quietMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.settle !== null) clearTimeout(this.settle);
    this.timer = this.settle = null;
  }
}
