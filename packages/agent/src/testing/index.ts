// Helpers for tests of other packages that run real agents in netlab namespaces.
export { AGENT_BIN, applyInLab, backendAddrs, listRuleset, mustApply } from "./agent-in-lab.ts";
export { AgentClient, runAgentToExit, startAgent, type AgentRunOptions, type ApiResponse, type RunningAgent } from "./agent-client.ts";
export { addForeignTables, FOREIGN_TABLES, listForeignTables } from "./foreign-tables.ts";
