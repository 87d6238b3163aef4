export { openChainRefiller, RefillError, type ChainRefiller } from "./refill.ts";
export { planRefill, type RefillMessage } from "./plan.ts";
export { ruleExprs, describeExpr, type Expr } from "./rule.ts";
export { openCounterDumper, type CounterDumper } from "./counters.ts";
