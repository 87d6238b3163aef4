// holder.mjs JSON: opens `count` long-lived TCP connections to target:port (an echo server
// --hold port), reads each one's greeting "NAME SEEN", then sends a line every intervalMs and
// times the echoes. Prints {"ready": [backend names]} once all are up; on "stop" (or EOF) on
// stdin, or after maxMs, ends the connections gracefully and prints the report as JSON.
import net from "node:net";

const opts = JSON.parse(process.argv[2] ?? "{}");
const { target, port, count, intervalMs = 50, maxMs = 300_000 } = opts;
const started = Date.now();

function holdOne() {
  return new Promise((resolve) => {
    const c = { backend: null, pings: 0, echoes: 0, maxGapMs: 0, lastEcho: 0, socket: null, closed: false };
    const socket = net.connect({ host: target, port });
    c.socket = socket;
    let buffer = "";
    const fail = (why) => {
      if (!c.error && !c.stopping) c.error = why;
    };
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      buffer += chunk;
      let i;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const text = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        const now = Date.now();
        if (c.backend === null) {
          c.backend = text.split(" ")[0] || null;
          c.lastEcho = now;
          resolve(c);
        } else {
          c.echoes++;
          c.maxGapMs = Math.max(c.maxGapMs, now - c.lastEcho);
          c.lastEcho = now;
        }
      }
    });
    socket.on("error", (e) => fail(e.code ?? e.message));
    socket.on("close", () => {
      c.closed = true;
      fail("closed by the peer");
      resolve(c);
    });
    setTimeout(() => {
      if (c.backend === null) {
        fail("no greeting within 3000 ms");
        socket.destroy();
        resolve(c);
      }
    }, 3000);
  });
}

const conns = await Promise.all(Array.from({ length: count }, holdOne));
process.stdout.write(`${JSON.stringify({ ready: conns.map((c) => c.backend) })}\n`);

const ticker = setInterval(() => {
  const now = Date.now();
  for (const c of conns) {
    if (c.closed || c.error) continue;
    c.pings++;
    c.socket.write(`ping ${c.pings}\n`);
    c.maxGapMs = Math.max(c.maxGapMs, now - c.lastEcho);
  }
}, intervalMs);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  // Let the last echoes arrive, then close our side and wait (bounded) for the peers to close.
  await new Promise((r) => setTimeout(r, intervalMs * 2));
  await Promise.all(
    conns.map(
      (c) =>
        new Promise((r) => {
          c.stopping = true;
          if (c.closed) return r();
          c.socket.once("close", r);
          c.socket.end();
          setTimeout(() => {
            c.socket.destroy();
            r();
          }, 2000);
        }),
    ),
  );
  const report = conns.map(({ backend, pings, echoes, maxGapMs, error }) => ({ backend, pings, echoes, maxGapMs, ...(error ? { error } : {}) }));
  process.stdout.write(`${JSON.stringify({ connections: report })}\n`);
  process.exit(0);
}

process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => d.includes("stop") && stop());
process.stdin.on("end", stop);
setTimeout(stop, Math.max(0, maxMs - (Date.now() - started)));
