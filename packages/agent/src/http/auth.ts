import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Compares a presented key with the agent's in constant time: both are hashed first, so the
 * comparison takes the same time whatever their lengths and wherever they first differ.
 */
export function keyMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
