import type { Backend, Scheduler } from "../model/farm.ts";

/**
 * The backends that take new connections: those `up` whose priority is within the farm's
 * active level. The level is the farm's own `priority` (nftlb's "priority availability":
 * backends up to that number work together) or, when none of those is up, the lowest
 * priority number that still has a backend up, so the next group takes over.
 */
export function activeBackends<B extends Pick<Backend, "priority" | "state">>(backends: readonly B[], farmPriority: number): B[] {
  const up = backends.filter((b) => b.state === "up");
  if (up.length === 0) return [];
  const lowestUp = Math.min(...up.map((b) => b.priority));
  const level = Math.max(farmPriority, lowestUp);
  return up.filter((b) => b.priority <= level);
}

export interface Slot<B> {
  backend: B;
  /** Inclusive range of scheduler outputs that select this backend. */
  from: number;
  to: number;
}

export interface SlotMap<B> {
  modulus: number;
  slots: Slot<B>[];
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Splits the scheduler's output space 0..modulus-1 into one contiguous range per backend,
 * sized by weight (rr ignores weights, as nftlb does). Weights are reduced by their common
 * divisor so that 50/50 and 1/1 give the same, smallest ruleset.
 */
export function slotMap<B extends Pick<Backend, "weight">>(backends: readonly B[], scheduler: Scheduler): SlotMap<B> {
  const weights = backends.map((b) => (scheduler === "rr" ? 1 : b.weight));
  const divisor = weights.reduce(gcd, 0) || 1;
  const slots: Slot<B>[] = [];
  let next = 0;
  backends.forEach((backend, i) => {
    const size = (weights[i] ?? 1) / divisor;
    slots.push({ backend, from: next, to: next + size - 1 });
    next += size;
  });
  return { modulus: next, slots };
}
