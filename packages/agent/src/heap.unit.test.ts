import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HeapTrimmer } from "./heap.ts";

const MB = 1024 * 1024;

describe("HeapTrimmer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function trimmer(options: { minGrowthBytes?: number } = {}) {
    let used = 10 * MB;
    const collect = vi.fn(() => {
      used = 10 * MB;
    });
    const heap = new HeapTrimmer({ quietMs: 1_000, minGrowthBytes: options.minGrowthBytes ?? 16 * MB, collect, used: () => used });
    return { heap, collect, grow: (bytes: number) => (used += bytes) };
  }

  it("collects once the agent has been quiet for quietMs after work, not during a burst", () => {
    const { heap, collect, grow } = trimmer();
    heap.now();
    expect(collect).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 5; i++) {
      grow(10 * MB);
      heap.soon();
      vi.advanceTimersByTime(500);
    }
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(500);
    expect(collect).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10_000);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it("leaves a heap that grew little since the last collection to V8", () => {
    const { heap, collect, grow } = trimmer();
    heap.now();
    grow(2 * MB);
    heap.soon();
    vi.advanceTimersByTime(2_000);
    expect(collect).toHaveBeenCalledTimes(1);
    grow(15 * MB);
    heap.soon();
    vi.advanceTimersByTime(2_000);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it("does nothing after stop(), nor without a collector (node without --expose-gc)", () => {
    const { heap, collect, grow } = trimmer();
    grow(100 * MB);
    heap.soon();
    heap.stop();
    vi.advanceTimersByTime(5_000);
    expect(collect).not.toHaveBeenCalled();

    const none = new HeapTrimmer({ collect: undefined, used: () => 100 * MB });
    expect(none.enabled).toBe(false);
    none.now();
    none.soon();
    vi.advanceTimersByTime(5_000);
  });

  it("measures growth from what the last collection left once it was given back, not from right after it", () => {
    let used = 200 * MB;
    const collect = vi.fn();
    const heap = new HeapTrimmer({ quietMs: 1_000, minGrowthBytes: 16 * MB, collect, used: () => used });
    heap.now();
    // The resident memory goes down only after the collection.
    used = 80 * MB;
    vi.advanceTimersByTime(2_000);
    used = 100 * MB;
    heap.soon();
    vi.advanceTimersByTime(1_000);
    expect(collect).toHaveBeenCalledTimes(2);
  });
});
