import type { Config } from "@switchyard/core";

// What bench/apply changes: backend b1 of one farm down, or up again. Pure.

export const BACKENDS = ["198.18.2.11", "198.18.2.12", "198.18.2.13", "198.18.2.14"];
export const TABLE = "switchyard";

/** The same config with backend b1 of farm #k set down (or up again when it was down). */
export function toggled(config: Config, k: number): Config {
  return {
    farms: config.farms.map((f, i) =>
      i !== k ? f : { ...f, backends: f.backends.map((b, j) => (j === 0 ? { ...b, state: b.state === "up" ? ("down" as const) : ("up" as const) } : b)) },
    ),
  };
}
