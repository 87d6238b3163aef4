// echo-sender.mjs TARGET PORT COUNT
// Opens COUNT TCP connections to an echo (hold) port of netlab's backends through the balancer,
// reads each backend's first line (its name), and prints {"backends": [...]}. Then, for each
// line on stdin: "send N" sends N bytes on every connection and waits until each has them
// echoed back, then prints {"sent": N}; "close" ends the connections and exits. Known amounts
// over long-lived connections: what the traffic counters must add up to, per backend.
// Bounded: every wait times out (10 s), and the process exits when its stdin closes.
import net from "node:net";
import readline from "node:readline";

const [target, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
if (!target || !Number.isInteger(port) || !Number.isInteger(count) || count < 1 || count > 100) fail("usage: echo-sender.mjs TARGET PORT COUNT (1..100)");

function fail(message) {
  process.stderr.write(`echo-sender: ${message}\n`);
  process.exit(1);
}

const WAIT_MS = 10_000;

function within(promise, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${WAIT_MS} ms`)), WAIT_MS)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** One connection: its backend's name, and a count of the echoed bytes after that line. */
function open() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target, port });
    const conn = { socket, backend: null, echoed: 0, waiter: null };
    let head = "";
    socket.on("error", (e) => reject(e));
    socket.on("data", (chunk) => {
      if (conn.backend === null) {
        head += chunk.toString("latin1");
        const nl = head.indexOf("\n");
        if (nl < 0) return;
        conn.backend = head.slice(0, nl).split(" ")[0];
        conn.echoed += head.length - nl - 1;
        resolve(conn);
      } else conn.echoed += chunk.length;
      conn.waiter?.();
    });
  });
}

/** N bytes as lines of at most 1,000 (the echo server echoes whatever comes, newlines included). */
function payload(n) {
  const line = `${"x".repeat(999)}\n`;
  return Buffer.from(line.repeat(Math.ceil(n / 1000)).slice(0, n), "latin1");
}

async function send(conns, n) {
  const data = payload(n);
  await Promise.all(
    conns.map((conn) => {
      const goal = conn.echoed + n;
      const done = new Promise((resolve) => {
        conn.waiter = () => {
          if (conn.echoed >= goal) resolve();
        };
      });
      conn.socket.write(data);
      return within(done, `echo of ${n} bytes from ${conn.backend}`);
    }),
  );
}

const conns = await within(Promise.all(Array.from({ length: count }, open)), `${count} connections to ${target}:${port}`).catch((e) => fail(e.message));
process.stdout.write(`${JSON.stringify({ backends: conns.map((c) => c.backend) })}\n`);

const input = readline.createInterface({ input: process.stdin });
input.on("close", () => process.exit(0));
for await (const line of input) {
  const [verb, arg] = line.trim().split(" ");
  if (verb === "send") {
    await send(conns, Number(arg)).catch((e) => fail(e.message));
    process.stdout.write(`${JSON.stringify({ sent: Number(arg) })}\n`);
  } else if (verb === "close") {
    for (const c of conns) c.socket.end();
    process.stdout.write(`${JSON.stringify({ closed: true })}\n`);
    process.exit(0);
  } else fail(`unknown command ${JSON.stringify(line)}`);
}
