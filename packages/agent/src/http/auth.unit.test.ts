import { describe, expect, it } from "vitest";
import { keyMatches } from "./auth.ts";

describe("keyMatches", () => {
  it("accepts exactly the key", () => {
    expect(keyMatches("s3cret", "s3cret")).toBe(true);
    expect(keyMatches("s3cret ", "s3cret")).toBe(false);
    expect(keyMatches("S3cret", "s3cret")).toBe(false);
    expect(keyMatches("", "s3cret")).toBe(false);
    expect(keyMatches(undefined, "s3cret")).toBe(false);
  });

  it("compares keys of any length without throwing (digests are of equal length)", () => {
    expect(keyMatches("x".repeat(10_000), "s3cret")).toBe(false);
    expect(keyMatches("s", "s3cret")).toBe(false);
    expect(keyMatches("ключ", "ключ")).toBe(true);
  });
});
