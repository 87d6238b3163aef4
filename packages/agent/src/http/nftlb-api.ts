import type { IncomingMessage } from "node:http";
import type { Logger } from "../log.ts";
import type { NftlbFarms, Outcome } from "../standalone.ts";
import { keyMatches } from "./auth.ts";
import { HttpError, readJson, type Answer, type Handler } from "./server.ts";

// nftlb's REST API: the `Key` header, /farms, /farms/NAME, /farms/NAME/backends/NAME, and
// nftlb's answers: {"response": "success"} or {"response": "error", "message": ...}.

export const errorBody = (message: string) => ({ response: "error", message });
const SUCCESS: Answer = { status: 200, body: { response: "success" } };

const CHANGE_METHODS = ["POST", "PUT", "PATCH"];

function answer(outcome: Outcome): Answer {
  return outcome.ok ? SUCCESS : { status: outcome.status, body: errorBody(outcome.message) };
}

function notAllowed(method: string, path: string, allowed: string[]): never {
  throw new HttpError(405, `method ${method} is not allowed on ${path} (allowed: ${allowed.join(", ")})`, { Allow: allowed.join(", ") });
}

/** Path segments, percent-decoded; null when the path cannot be decoded. */
function segments(url: string): string[] | null {
  const path = url.split("?")[0] ?? "";
  try {
    return path
      .split("/")
      .filter((s) => s !== "")
      .map(decodeURIComponent);
  } catch {
    return null;
  }
}

export interface NftlbApiOptions {
  key: string;
  farms: NftlbFarms;
  log: Logger;
}

export function nftlbApi({ key, farms, log }: NftlbApiOptions): Handler {
  return async (req: IncomingMessage): Promise<Answer> => {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const presented = req.headers.key;
    if (!keyMatches(typeof presented === "string" ? presented : undefined, key)) {
      log.warn({ method, url, remote: req.socket.remoteAddress, keyGiven: presented !== undefined }, "refused: bad key");
      throw new HttpError(401, presented === undefined ? "the Key header is missing" : "the key is not valid");
    }
    const parts = segments(url);
    const path = url.split("?")[0] ?? url;
    if (parts === null || parts[0] !== "farms") throw new HttpError(404, `unknown path ${path}`);

    if (parts.length === 1) {
      if (method === "GET") return { status: 200, body: farms.list() };
      if (CHANGE_METHODS.includes(method)) return answer(await farms.merge(await readJson(req)));
      notAllowed(method, path, ["GET", ...CHANGE_METHODS]);
    }

    const farmName = parts[1] ?? "";
    if (parts.length === 2) {
      if (method === "GET") {
        const farm = farms.list().farms.find((f) => f.name === farmName);
        if (farm === undefined) throw new HttpError(404, `farm "${farmName}": no such farm`);
        return { status: 200, body: { farms: [farm] } };
      }
      if (method === "DELETE") return answer(await farms.removeFarm(farmName));
      notAllowed(method, path, ["GET", "DELETE"]);
    }

    if (parts.length === 4 && parts[2] === "backends") {
      if (method === "DELETE") return answer(await farms.removeBackend(farmName, parts[3] ?? ""));
      notAllowed(method, path, ["DELETE"]);
    }
    throw new HttpError(404, `unknown path ${path}`);
  };
}
