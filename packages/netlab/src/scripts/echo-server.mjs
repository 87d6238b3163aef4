// echo-server.mjs NAME [--tcp P,P...] [--udp P,P...] [--hold P,P...]
// Answers every TCP connection and every UDP datagram with "NAME SEEN_ADDR\n" (the peer's
// address as this host sees it), then forgets it. On --hold ports a TCP connection stays open
// after that line and every line the client sends is echoed back, for long-lived connection
// tests. Prints "ready" once every listener is up.
// Exits when its stdin closes, so that it never outlives the process that started it.
import dgram from "node:dgram";
import net from "node:net";
import os from "node:os";

const [name, ...rest] = process.argv.slice(2);
const ports = { "--tcp": [], "--udp": [], "--hold": [] };
for (let i = 0; i < rest.length; i += 2) {
  const list = ports[rest[i]];
  if (!list || rest[i + 1] === undefined) fail(`usage: echo-server.mjs NAME [--tcp P,...] [--udp P,...] [--hold P,...]`);
  for (const p of rest[i + 1].split(",").filter(Boolean)) list.push(Number(p));
}
if (!name) fail("usage: echo-server.mjs NAME [--tcp P,...] [--udp P,...]");

function fail(message) {
  process.stderr.write(`echo-server: ${message}\n`);
  process.exit(1);
}

const seen = (addr) => (addr ?? "").replace(/^::ffff:/, "");
const line = (addr) => `${name} ${seen(addr)}\n`;

function answerOnce(socket) {
  socket.setTimeout(5000, () => socket.destroy());
  socket.end(line(socket.remoteAddress));
}

function answerAndEcho(socket) {
  socket.write(line(socket.remoteAddress));
  socket.pipe(socket);
}

function listenTcp(port, hold = false) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.on("error", () => {});
      (hold ? answerAndEcho : answerOnce)(socket);
    });
    server.once("error", reject);
    server.listen({ host: "::", port, ipv6Only: false, backlog: 1024 }, () => {
      server.removeListener("error", reject);
      server.on("error", (e) => process.stderr.write(`echo-server: tcp ${port}: ${e.message}\n`));
      resolve();
    });
  });
}

function bindUdp(type, address, port) {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type, reuseAddr: true, ipv6Only: false });
    socket.on("message", (_msg, rinfo) => socket.send(line(rinfo.address), rinfo.port, rinfo.address));
    socket.once("error", reject);
    socket.bind({ address, port }, () => {
      socket.removeListener("error", reject);
      socket.on("error", (e) => process.stderr.write(`echo-server: udp ${address}:${port}: ${e.message}\n`));
      resolve();
    });
  });
}

// A wildcard socket answers from whatever address routing picks; a socket bound to each address
// the host holds right now (a VIP on lo, for direct return) answers from the address asked.
const local = Object.entries(os.networkInterfaces())
  .flatMap(([, list]) => list ?? [])
  .filter((a) => !(a.family === "IPv6" && a.address.startsWith("fe80")));

try {
  await Promise.all(ports["--tcp"].map((port) => listenTcp(port)));
  await Promise.all(ports["--hold"].map((port) => listenTcp(port, true)));
  for (const port of ports["--udp"]) {
    await bindUdp("udp6", "::", port);
    for (const a of local) await bindUdp(a.family === "IPv4" ? "udp4" : "udp6", a.address, port);
  }
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
process.stdout.write("ready\n");
