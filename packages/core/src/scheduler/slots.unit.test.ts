import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Backend, State } from "../model/farm.ts";
import { activeBackends, slotMap } from "./slots.ts";

type B = Pick<Backend, "name" | "priority" | "state" | "weight">;
const b = (name: string, priority = 1, state: State = "up", weight = 1): B => ({ name, priority, state, weight });
const names = (list: readonly B[]) => list.map((x) => x.name);

describe("activeBackends", () => {
  it("takes every up backend when all share one priority", () => {
    expect(names(activeBackends([b("a"), b("b"), b("c")], 1))).toEqual(["a", "b", "c"]);
  });

  it("takes only the lowest priority group that has a backend up", () => {
    const list = [b("a", 1), b("b", 1), b("c", 2), b("d", 3)];
    expect(names(activeBackends(list, 1))).toEqual(["a", "b"]);
  });

  it("keeps the group while one of its backends is up", () => {
    const list = [b("a", 1, "down"), b("b", 1), b("c", 2)];
    expect(names(activeBackends(list, 1))).toEqual(["b"]);
  });

  it("hands over to the next group when the whole group is down or off", () => {
    expect(names(activeBackends([b("a", 1, "down"), b("b", 1, "off"), b("c", 2), b("d", 2), b("e", 3)], 1))).toEqual(["c", "d"]);
    expect(names(activeBackends([b("a", 1, "down"), b("c", 2, "off"), b("e", 3)], 1))).toEqual(["e"]);
  });

  it("looks at the priority numbers, not at the order of the list", () => {
    expect(names(activeBackends([b("c", 3), b("a", 2), b("b", 2)], 1))).toEqual(["a", "b"]);
  });

  it("with farm priority P, makes every up backend of priority <= P work together", () => {
    const list = [b("a", 1), b("b", 2), b("c", 3), b("d", 4)];
    expect(names(activeBackends(list, 2))).toEqual(["a", "b"]);
    expect(names(activeBackends(list, 3))).toEqual(["a", "b", "c"]);
    expect(names(activeBackends(list, 1000))).toEqual(["a", "b", "c", "d"]);
  });

  it("with farm priority P and every backend <= P down, takes the next group only", () => {
    const list = [b("a", 1, "down"), b("b", 2, "off"), b("c", 3), b("d", 4)];
    expect(names(activeBackends(list, 2))).toEqual(["c"]);
  });

  it("never takes a down or off backend", () => {
    expect(names(activeBackends([b("a", 1, "down"), b("b", 1, "off"), b("c", 1)], 5))).toEqual(["c"]);
  });

  it("is empty when no backend is up, or there is none", () => {
    expect(activeBackends([b("a", 1, "down"), b("b", 2, "off")], 1)).toEqual([]);
    expect(activeBackends([], 1)).toEqual([]);
  });

  it("returns the backend objects themselves, keeping extra fields", () => {
    const x = { ...b("x"), "ip-addr": "198.18.2.1" };
    expect(activeBackends([x], 1)[0]).toBe(x);
  });

  const backends = fc.array(
    fc.record({
      name: fc.string(),
      priority: fc.integer({ min: 1, max: 5 }),
      state: fc.constantFrom<State>("up", "down", "off"),
      weight: fc.integer({ min: 1, max: 10 }),
    }),
    { maxLength: 12 },
  );

  it("takes up backends only, of one contiguous priority band, and keeps the list order (property)", () => {
    fc.assert(
      fc.property(backends, fc.integer({ min: 1, max: 5 }), (list, farmPriority) => {
        const active = activeBackends(list, farmPriority);
        const up = list.filter((x) => x.state === "up");
        expect(active.length === 0).toBe(up.length === 0);
        if (up.length === 0) return;
        const lowest = Math.min(...up.map((x) => x.priority));
        const level = Math.max(lowest, farmPriority);
        // Exactly the up backends at or below the level, in input order.
        expect(active).toEqual(up.filter((x) => x.priority <= level));
        // The lowest up group always takes part.
        expect(active.some((x) => x.priority === lowest)).toBe(true);
      }),
    );
  });
});

describe("slotMap", () => {
  it("sizes the ranges by weight, in list order", () => {
    const map = slotMap([b("a", 1, "up", 2), b("b", 1, "up", 1), b("c", 1, "up", 1)], "weight");
    expect(map.modulus).toBe(4);
    expect(map.slots.map((s) => [s.backend.name, s.from, s.to])).toEqual([
      ["a", 0, 1],
      ["b", 2, 2],
      ["c", 3, 3],
    ]);
  });

  it("reduces weights by their greatest common divisor", () => {
    const map = slotMap([b("a", 1, "up", 50), b("b", 1, "up", 50)], "weight");
    expect(map.modulus).toBe(2);
    expect(map.slots.map((s) => [s.from, s.to])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    const map2 = slotMap([b("a", 1, "up", 6), b("b", 1, "up", 4), b("c", 1, "up", 10)], "hash");
    expect(map2.modulus).toBe(10);
    expect(map2.slots.map((s) => s.to - s.from + 1)).toEqual([3, 2, 5]);
  });

  it("keeps weights that have no common divisor", () => {
    expect(slotMap([b("a", 1, "up", 3), b("b", 1, "up", 7)], "weight").modulus).toBe(10);
  });

  it("ignores weights under rr", () => {
    const map = slotMap([b("a", 1, "up", 5), b("b", 1, "up", 1), b("c", 1, "up", 3)], "rr");
    expect(map.modulus).toBe(3);
    expect(map.slots.map((s) => [s.from, s.to])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });

  it("uses weights under hash and symhash", () => {
    expect(slotMap([b("a", 1, "up", 2), b("b", 1, "up", 1)], "hash").modulus).toBe(3);
    expect(slotMap([b("a", 1, "up", 2), b("b", 1, "up", 1)], "symhash").modulus).toBe(3);
  });

  it("gives one backend the whole space and none an empty map", () => {
    expect(slotMap([b("a", 1, "up", 7)], "weight")).toEqual({ modulus: 1, slots: [{ backend: expect.objectContaining({ name: "a" }), from: 0, to: 0 }] });
    expect(slotMap([], "weight")).toEqual({ modulus: 0, slots: [] });
  });

  it("tiles 0..modulus-1 with ranges proportional to the weights (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 40 }),
        fc.constantFrom("weight", "rr", "hash", "symhash" as const),
        (weights, scheduler) => {
          const list = weights.map((w, i) => b(`b${i}`, 1, "up", w));
          const { modulus, slots } = slotMap(list, scheduler);
          expect(slots.map((s) => s.backend)).toEqual(list);
          let next = 0;
          for (const slot of slots) {
            expect(slot.from).toBe(next);
            expect(slot.to).toBeGreaterThanOrEqual(slot.from);
            next = slot.to + 1;
          }
          expect(next).toBe(modulus);
          const sizes = slots.map((s) => s.to - s.from + 1);
          const effective = scheduler === "rr" ? weights.map(() => 1) : weights;
          // Proportional: size_i * w_j === size_j * w_i, and as small as possible.
          for (let i = 1; i < sizes.length; i++) expect(sizes[i]! * effective[0]!).toBe(sizes[0]! * effective[i]!);
          const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
          expect(sizes.reduce(gcd)).toBe(1);
        },
      ),
    );
  });
});
