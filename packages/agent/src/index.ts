export * from "./apply-config.ts";
export * from "./facts.ts";
export * from "./nft/driver.ts";
export * from "./nft/runner.ts";
