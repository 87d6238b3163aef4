// client.mjs JSON  (ConnectOptions without "from")
// Opens `count` connections (a new TCP connection or a new UDP socket each), at most
// `concurrency` at a time, each bounded by `timeoutMs`, the whole run by `deadlineMs`.
// Prints one JSON Tally on stdout.
import dgram from "node:dgram";
import net from "node:net";

const o = JSON.parse(process.argv[2] ?? "{}");
const count = o.count;
const concurrency = Math.max(1, Math.min(o.concurrency ?? 16, 1024));
const timeoutMs = o.timeoutMs ?? 2000;
const deadlineAt = Date.now() + (o.deadlineMs ?? 60_000);
const sources = o.sources?.length ? o.sources : null;
const strip = (addr) => (addr ?? "").replace(/^::ffff:/, "");

/** One connection: resolves { source, reply } or { source, error }. */
function once(i, ms) {
  const source = sources ? sources[i % sources.length] : undefined;
  return new Promise((resolve) => {
    let local = source ?? "";
    let reply = "";
    let finished = false;
    let close = () => {};
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      close();
      resolve(error ? { source: local, error } : { source: local, reply });
    };
    const timer = setTimeout(() => finish("timeout"), ms);
    const onError = (e) => finish(e.code ?? e.message);

    if (o.proto === "tcp") {
      const socket = net.connect({ host: o.target, port: o.port, localAddress: source, localPort: o.sourcePort, noDelay: true });
      close = () => socket.destroy();
      socket.setEncoding("utf8");
      socket.on("connect", () => (local = strip(socket.localAddress)));
      socket.on("data", (d) => {
        reply += d;
        if (reply.length > 1024) finish("reply too long");
      });
      socket.on("end", () => finish(reply ? null : "empty reply"));
      socket.on("error", onError);
      socket.on("close", () => finish(reply ? null : "closed"));
    } else {
      const socket = dgram.createSocket({ type: net.isIPv6(o.target) ? "udp6" : "udp4" });
      close = () => {
        try {
          socket.close();
        } catch {
          // already closed
        }
      };
      socket.on("error", onError);
      socket.on("message", (msg) => {
        reply = msg.toString("utf8");
        finish(null);
      });
      socket.bind({ address: source, port: o.sourcePort ?? 0 }, () => {
        socket.connect(o.port, o.target, (err) => {
          if (err) return finish(err.code ?? err.message);
          local = strip(socket.address().address);
          socket.send("ping\n", (e) => e && onError(e));
        });
      });
    }
  });
}

const results = new Array(count);
let next = 0;
async function worker() {
  for (;;) {
    const i = next++;
    if (i >= count) return;
    const left = deadlineAt - Date.now();
    if (left <= 0) {
      const source = sources ? sources[i % sources.length] : "";
      results[i] = { source, backend: null, seen: null, error: "deadline" };
      continue;
    }
    const r = await once(i, Math.min(timeoutMs, left));
    if (r.error) results[i] = { source: r.source, backend: null, seen: null, error: r.error };
    else {
      const [backend, seen] = r.reply.trim().split(" ");
      results[i] = backend && seen !== undefined ? { source: r.source, backend, seen } : { source: r.source, backend: null, seen: null, error: `bad reply ${JSON.stringify(r.reply)}` };
    }
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));

const tally = { byBackend: {}, failed: 0, seenSources: {}, results };
for (const r of results) {
  if (r.backend === null) tally.failed++;
  else {
    tally.byBackend[r.backend] = (tally.byBackend[r.backend] ?? 0) + 1;
    tally.seenSources[r.seen] = (tally.seenSources[r.seen] ?? 0) + 1;
  }
}
process.stdout.write(`${JSON.stringify(tally)}\n`, () => process.exit(0));
