import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.ts";

// A small JSON-over-HTTP server on node:http: bounded bodies, bounded request times, every
// answer a JSON document, every failure an answer rather than a dropped connection.

/** nftlb's API: a whole 10,000-farm config in nftlb's JSON is about 4 MB. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** The managed API: a whole ruleset (IR) of 10,000 dual-stack farms is about 10 MB. */
export const MAX_RULESET_BODY_BYTES = 128 * 1024 * 1024;
/** A body over the limit is still read (and dropped) up to this much more, so that the client gets its 413. */
const DRAIN_MARGIN_BYTES = 16 * 1024 * 1024;

export interface Answer {
  status: number;
  body: unknown;
  /** Sent as it is instead of `body` as JSON (with a text/plain Content-Type unless headers say otherwise). */
  text?: string;
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export type Handler = (req: IncomingMessage) => Promise<Answer>;

/** The request body as JSON; 413 over MAX_BODY_BYTES, 400 when it is not JSON. */
export function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      else if (size > limit + DRAIN_MARGIN_BYTES) req.destroy();
    });
    req.on("error", reject);
    // A client that goes away mid-body: settle rather than wait for an end that never comes.
    req.on("close", () => {
      if (!req.complete) reject(new HttpError(400, "the request body was cut short"));
    });
    req.on("end", () => {
      if (tooLarge) return reject(new HttpError(413, `the request body is larger than ${limit} bytes`));
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return reject(new HttpError(400, "the request has no body; send a JSON document"));
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`));
      }
    });
  });
}

function send(res: ServerResponse, answer: Answer): void {
  const text = answer.text ?? `${JSON.stringify(answer.body)}\n`;
  res.writeHead(answer.status, {
    "Content-Type": answer.text === undefined ? "application/json" : "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...answer.headers,
  });
  res.end(text);
}

export interface JsonServer {
  readonly host: string;
  readonly port: number;
  close(graceMs?: number): Promise<void>;
}

export interface ServeOptions {
  host: string;
  port: number;
  log: Logger;
  /** Turns an error thrown by the handler into the body of its answer. */
  errorBody: (message: string) => unknown;
}

/** Starts listening; rejects with a clear message when it cannot (address in use, no such address). */
export function serveJson(options: ServeOptions, handler: Handler): Promise<JsonServer> {
  const { log } = options;
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    handler(req)
      .catch((error: unknown): Answer => {
        if (error instanceof HttpError) return { status: error.status, body: options.errorBody(error.message), headers: error.headers };
        log.error({ err: error, method: req.method, url: req.url }, "request failed");
        return { status: 500, body: options.errorBody(`internal error: ${(error as Error).message}`) };
      })
      .then((answer) => {
        if (!req.complete) answer = { ...answer, headers: { ...answer.headers, Connection: "close" } };
        send(res, answer);
        log.debug({ method: req.method, url: req.url, status: answer.status, ms: Math.round(performance.now() - started) }, "request");
      })
      .catch((error: unknown) => {
        log.error({ err: error }, "cannot answer");
        res.destroy();
      });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const why = error.code === "EADDRINUSE" ? "the address is already in use" : error.code === "EADDRNOTAVAIL" ? "no such local address" : error.message;
      reject(new Error(`cannot listen on ${formatHostPort(options.host, options.port)}: ${why}`));
    };
    server.once("error", onError);
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      server.off("error", onError);
      server.on("error", (error) => log.error({ err: error }, "http server error"));
      const address = server.address() as AddressInfo;
      resolve({
        host: address.address,
        port: address.port,
        close: (graceMs = 2_000) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => server.closeAllConnections(), graceMs);
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
