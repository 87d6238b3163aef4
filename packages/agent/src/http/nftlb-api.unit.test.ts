import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NftlbConfig } from "@switchyard/core";
import { createLogger } from "../log.ts";
import type { NftlbFarms, Outcome } from "../standalone.ts";
import { errorBody, nftlbApi } from "./nftlb-api.ts";
import { MAX_BODY_BYTES, serveJson, type JsonServer } from "./server.ts";

// The HTTP layer on loopback with a recording stand-in for the mode behind it: routing,
// the key, body limits and nftlb's answers. The real mode is proven in the integration tests.

class Recorder implements NftlbFarms {
  readonly calls: unknown[][] = [];
  next: Outcome = { ok: true };
  list(): NftlbConfig {
    return { farms: [{ name: "web", backends: [] }] };
  }
  async merge(fragment: unknown) {
    this.calls.push(["merge", fragment]);
    return this.next;
  }
  async removeFarm(name: string) {
    this.calls.push(["removeFarm", name]);
    return this.next;
  }
  async removeBackend(farm: string, backend: string) {
    this.calls.push(["removeBackend", farm, backend]);
    return this.next;
  }
}

const farms = new Recorder();
let server: JsonServer;

beforeAll(async () => {
  const log = createLogger("silent");
  server = await serveJson({ host: "127.0.0.1", port: 0, log, errorBody }, nftlbApi({ key: "k", farms, log }));
});
afterAll(() => server?.close());

function call(method: string, path: string, opts: { key?: string | null; body?: string | Buffer; chunked?: boolean } = {}) {
  return new Promise<{ status: number; body: unknown; headers: Record<string, unknown> }>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.key !== null) headers.Key = opts.key ?? "k";
    if (opts.chunked) headers["Transfer-Encoding"] = "chunked";
    const req = request({ host: "127.0.0.1", port: server.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("nftlb API over HTTP", () => {
  it("needs the key on every path", async () => {
    expect(await call("GET", "/farms", { key: null })).toMatchObject({ status: 401, body: { response: "error", message: "the Key header is missing" } });
    expect(await call("GET", "/nowhere", { key: "K" })).toMatchObject({ status: 401, body: { message: "the key is not valid" } });
  });

  it("routes nftlb's paths", async () => {
    farms.calls.length = 0;
    expect(await call("GET", "/farms")).toMatchObject({ status: 200, body: { farms: [{ name: "web" }] } });
    expect(await call("GET", "/farms/web/")).toMatchObject({ status: 200, body: { farms: [{ name: "web" }] } });
    for (const method of ["POST", "PUT", "PATCH"]) {
      expect(await call(method, "/farms", { body: '{"farms": []}' })).toMatchObject({ status: 200, body: { response: "success" } });
    }
    expect((await call("DELETE", "/farms/web")).status).toBe(200);
    expect((await call("DELETE", "/farms/web/backends/b%201")).status).toBe(200);
    expect(farms.calls).toEqual([
      ["merge", { farms: [] }],
      ["merge", { farms: [] }],
      ["merge", { farms: [] }],
      ["removeFarm", "web"],
      ["removeBackend", "web", "b 1"],
    ]);
  });

  it("answers the mode's refusals with their status and message", async () => {
    farms.next = { ok: false, status: 409, message: "managed by https://cp.example" };
    expect(await call("DELETE", "/farms/web")).toMatchObject({ status: 409, body: { response: "error", message: "managed by https://cp.example" } });
    farms.next = { ok: true };
  });

  it("404 for unknown paths, 405 with Allow for wrong methods", async () => {
    expect(await call("GET", "/farms/web/backends")).toMatchObject({ status: 404, body: { message: "unknown path /farms/web/backends" } });
    expect(await call("GET", "/%E0%A4%A")).toMatchObject({ status: 404 });
    const wrong = await call("DELETE", "/farms");
    expect(wrong).toMatchObject({ status: 405, headers: { allow: "GET, POST, PUT, PATCH" } });
  });

  it("refuses bodies that are empty, not JSON, or over 16 MB (declared or chunked)", async () => {
    expect(await call("POST", "/farms")).toMatchObject({ status: 400, body: { message: expect.stringContaining("no body") } });
    expect(await call("POST", "/farms", { body: "{" })).toMatchObject({ status: 400, body: { message: expect.stringContaining("not valid JSON") } });
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    expect(await call("POST", "/farms", { body: big })).toMatchObject({ status: 413 });
    expect(await call("POST", "/farms", { body: big, chunked: true })).toMatchObject({ status: 413 });
    expect(await call("GET", "/farms")).toMatchObject({ status: 200 });
  });
});
