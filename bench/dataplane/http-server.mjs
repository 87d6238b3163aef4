// Fallback backend for bench/dataplane when nginx is not installed: answers any request with
// "200 NAME\n" and closes. Node spends about twice nginx's CPU per connection, so with it the
// server, not the data path, is the bottleneck on a small machine (run.ts says so).
// Usage: node http-server.mjs ADDRESS PORT NAME   (stopped by its parent, by pid)
import net from "node:net";

const [host = "0.0.0.0", portText = "80", name = "backend"] = process.argv.slice(2);
const body = `${name}\n`;
const response = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on("error", () => {});
  socket.once("data", () => socket.end(response));
});
server.listen({ host, port: Number(portText), backlog: 4096 });
