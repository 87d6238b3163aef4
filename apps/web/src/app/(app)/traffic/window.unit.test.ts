import { describe, expect, it } from "vitest";
import { rateBetween, ratesOf, readingOf, type CountersAnswer, type Reading } from "./window";

// The Traffic page's rates from successive counter readings: per node, summed; a node missing
// from either reading adds nothing; a counter that went backwards is a reset, not a negative rate.

const answer = (at: number, nodes: Record<string, Record<string, number> | null>): CountersAnswer => ({
  at: new Date(at).toISOString(),
  nodes: Object.entries(nodes).map(([name, values]) =>
    values === null
      ? { name, url: `http://${name}:5555`, ok: false as const, error: `node "${name}": its agent cannot be reached`, ms: 1 }
      : {
          name,
          url: `http://${name}:5555`,
          ok: true as const,
          ms: 1,
          value: {
            table: "switchyard",
            readAt: new Date(at).toISOString(),
            readMs: 1,
            farms: [{ name: "web", connections: Object.values(values).reduce((a, b) => a + b, 0), backends: Object.entries(values).map(([b, connections]) => ({ name: b, connections })) }],
          },
        },
  ),
  farms: [],
});

describe("traffic rates", () => {
  it("sums per-node rates over the nodes that answered both times", () => {
    const a = readingOf(answer(0, { lb1: { b1: 10, b2: 20 }, lb2: { b1: 5, b2: 5 } }));
    const b = readingOf(answer(2_000, { lb1: { b1: 14, b2: 20 }, lb2: { b1: 9, b2: 7 } }));
    const point = rateBetween(a, b, null);
    expect(point.at).toBe(2_000);
    expect(Object.fromEntries(point.backends)).toEqual({ "web/b1": 4, "web/b2": 1 });
    expect(Object.fromEntries(point.farms)).toEqual({ web: 5 });
    expect(Object.fromEntries(rateBetween(a, b, "lb2").backends)).toEqual({ "web/b1": 2, "web/b2": 1 });
  });

  it("a node that did not answer, and a counter that went backwards, add nothing rather than a drop and a spike", () => {
    const readings: Reading[] = [
      readingOf(answer(0, { lb1: { b1: 10 }, lb2: { b1: 100 } })),
      readingOf(answer(1_000, { lb1: { b1: 12 }, lb2: null })),
      readingOf(answer(2_000, { lb1: { b1: 14 }, lb2: { b1: 110 } })),
      readingOf(answer(3_000, { lb1: { b1: 1 }, lb2: { b1: 111 } })),
    ];
    expect(ratesOf(readings, null).map((p) => p.farms.get("web"))).toEqual([2, 2, 1]);
  });
});
