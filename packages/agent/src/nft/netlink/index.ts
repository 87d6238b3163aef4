export { openChainRefiller, RefillError, type ChainRefiller } from "./refill.ts";
export { planRefill, type RefillMessage } from "./plan.ts";
export { ruleExprs, describeExpr, type Expr } from "./rule.ts";
export { openCounterDumper, type CounterDumper } from "./counters.ts";
export { openElementCounterDumper, type ElementCounterDumper } from "./elements.ts";
export { elementKey } from "./set-key.ts";
export { encodeReplace } from "./replace.ts";
export { openReplaceSender, ReplaceError, type ReplaceSender } from "./replace-send.ts";
