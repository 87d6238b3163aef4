// What a browser may import: the farm model, its checks and the nftlb codec, nothing that
// needs Node (hashing, the ruleset builder). The dashboard validates forms with these.
export * from "./model/address.ts";
export * from "./model/farm.ts";
export * from "./model/config-diff.ts";
export * from "./model/issues.ts";
export * from "./model/ports.ts";
export * from "./nftlb/codec.ts";
export * from "./model/placement.ts";
