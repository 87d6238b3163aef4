import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { startFleet } from "./fleet.ts";

// The fleet as a process of its own, driven over loopback HTTP by Playwright's global setup and
// by the tests (real connections through a node, an agent stopped and started). It writes
// {url, control, ...} to the file named by argv[2] once everything answers, and tears the
// namespaces down on SIGTERM, SIGINT, or when its parent goes away.

const infoFile = process.argv[2];
const port = Number(process.argv[3] ?? 3900);
if (infoFile === undefined) throw new Error("usage: main.ts INFO_FILE [PORT]");

const log = (line: string) => process.stderr.write(`[fleet] ${line}\n`);
const fleet = await startFleet({ port, log });

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

const control = createServer((req, res) => {
  const answer = (status: number, value: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
  void (async () => {
    const input = await body(req);
    const node = Number(input.node ?? 0);
    const lab = fleet.labs[node];
    if (lab === undefined) return answer(400, { error: `no node ${node}` });
    switch (req.url) {
      case "/connect": {
        // Bounded: at most 200 connections, each with the client's own timeout.
        const count = Math.min(200, Number(input.count ?? 20));
        const tally = await lab.connect({ target: String(input.target), port: Number(input.port ?? 80), proto: "tcp", count });
        return answer(200, tally);
      }
      case "/agent/stop":
        await fleet.stopAgent(node);
        return answer(200, { stopped: node });
      case "/agent/start":
        await fleet.startAgent(node);
        return answer(200, { started: node });
      default:
        return answer(404, { error: `unknown ${req.url}` });
    }
  })().catch((error: unknown) => answer(500, { error: error instanceof Error ? error.message : String(error) }));
});
await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  control.close();
  await fleet.destroy();
  log("torn down");
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// Playwright's global setup holds our stdin: when it ends (the runner died), so do we.
process.stdin.on("end", () => void stop());
process.stdin.resume();

writeFileSync(infoFile, JSON.stringify({ ...fleet.info, control: controlUrl, pid: process.pid }));
log(`ready: ${fleet.info.url} (control ${controlUrl})`);
