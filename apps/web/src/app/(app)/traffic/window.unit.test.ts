import { describe, expect, it } from "vitest";
import { rateBetween, ratesOf, readingOf, type CountersAnswer, type Reading } from "./window";

// The Traffic page's rates from successive counter readings: per node, summed; a node missing
// from either reading adds nothing; a counter that went backwards is a reset, not a negative rate.

/** Per node, per backend: connections; packets are ten a connection and bytes 1,000 a packet, unless given. */
type Values = Record<string, number | { connections: number; packets: number; bytes: number }>;

const amounts = (v: Values[string]) => (typeof v === "number" ? { connections: v, packets: 10 * v, bytes: 10_000 * v } : v);

const answer = (at: number, nodes: Record<string, Values | null>): CountersAnswer => ({
  at: new Date(at).toISOString(),
  nodes: Object.entries(nodes).map(([name, values]) => {
    if (values === null) return { name, url: `http://${name}:5555`, ok: false as const, error: `node "${name}": its agent cannot be reached`, ms: 1 };
    const backends = Object.entries(values).map(([b, v]) => ({ name: b, ...amounts(v) }));
    const sum = (m: "connections" | "packets" | "bytes") => backends.reduce((n, b) => n + b[m], 0);
    return {
      name,
      url: `http://${name}:5555`,
      ok: true as const,
      ms: 1,
      value: { table: "switchyard", readAt: new Date(at).toISOString(), readMs: 1, farms: [{ name: "web", connections: sum("connections"), packets: sum("packets"), bytes: sum("bytes"), backends }] },
    };
  }),
  farms: [],
});

const of = (m: Map<string, { connections: number; packets: number; bytes: number }>, pick: "connections" | "packets" | "bytes") => Object.fromEntries([...m].map(([k, v]) => [k, v[pick]]));

describe("traffic rates", () => {
  it("sums per-node rates over the nodes that answered both times, for connections, packets and bytes", () => {
    const a = readingOf(answer(0, { lb1: { b1: 10, b2: 20 }, lb2: { b1: 5, b2: 5 } }));
    const b = readingOf(answer(2_000, { lb1: { b1: 14, b2: 20 }, lb2: { b1: 9, b2: 7 } }));
    const point = rateBetween(a, b, null);
    expect(point.at).toBe(2_000);
    expect(of(point.backends, "connections")).toEqual({ "web/b1": 4, "web/b2": 1 });
    expect(of(point.farms, "connections")).toEqual({ web: 5 });
    expect(of(point.backends, "packets")).toEqual({ "web/b1": 40, "web/b2": 10 });
    expect(of(point.farms, "bytes")).toEqual({ web: 50_000 });
    expect(of(rateBetween(a, b, "lb2").backends, "connections")).toEqual({ "web/b1": 2, "web/b2": 1 });
  });

  it("bytes flow on connections that are not new: a rate of bytes with no new connection", () => {
    const a = readingOf(answer(0, { lb1: { b1: { connections: 3, packets: 100, bytes: 50_000 } } }));
    const b = readingOf(answer(1_000, { lb1: { b1: { connections: 3, packets: 180, bytes: 150_000 } } }));
    expect(rateBetween(a, b, null).backends.get("web/b1")).toEqual({ connections: 0, packets: 80, bytes: 100_000 });
  });

  it("a node that did not answer, and a counter that went backwards, add nothing rather than a drop and a spike", () => {
    const readings: Reading[] = [
      readingOf(answer(0, { lb1: { b1: 10 }, lb2: { b1: 100 } })),
      readingOf(answer(1_000, { lb1: { b1: 12 }, lb2: null })),
      readingOf(answer(2_000, { lb1: { b1: 14 }, lb2: { b1: 110 } })),
      readingOf(answer(3_000, { lb1: { b1: 1 }, lb2: { b1: 111 } })),
    ];
    expect(ratesOf(readings, null).map((p) => p.farms.get("web")?.connections)).toEqual([2, 2, 1]);
  });
});
