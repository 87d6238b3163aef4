import { parseConfig, buildRuleset, renderReplaceScript } from "@switchyard/core";
import { readFileSync } from "node:fs";
const cfg = parseConfig(JSON.parse(readFileSync("/tmp/cfg.json","utf8")));
process.stdout.write(renderReplaceScript(buildRuleset(cfg, { facts: { interfaces: { "eth-b": { mac: "02:00:00:00:01:02" } }, neighbours: {} } }), "switchyard"));
