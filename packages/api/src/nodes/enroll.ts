import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "@switchyard/db";
import { issueNodeToken, nodeToken } from "./token.ts";

// Enrollment without a person at a terminal (docker compose, provisioning): `serve --enroll
// NAME=URL --token-dir DIR` makes sure each node exists and writes its token to DIR/NAME.token,
// where the node's agent reads it (--token-file). The token is derived from the control plane's
// key and the node's salt, so writing it again at every start gives the same token; the
// database still keeps only its hash.

export interface Enrollment {
  name: string;
  url: string;
}

/** "lb1=http://10.0.0.5:5555,lb2=http://..." (also how SWITCHYARD_ENROLL reads). */
export function parseEnrollments(specs: readonly string[]): Enrollment[] {
  return specs
    .flatMap((spec) => spec.split(","))
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((spec) => {
      const at = spec.indexOf("=");
      const name = spec.slice(0, at);
      const url = spec.slice(at + 1);
      if (at <= 0 || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name) || !/^https?:\/\/\S+$/.test(url)) {
        throw new Error(`--enroll ${spec}: expected NAME=URL, NAME lowercase letters, digits and '-', URL the agent's http(s):// address`);
      }
      return { name, url };
    });
}

export async function enrollNodes(db: Database, key: Buffer, enrollments: readonly Enrollment[], tokenDir: string): Promise<string[]> {
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  for (const { name, url } of enrollments) {
    let node = await db.node.findUnique({ where: { name }, select: { id: true, url: true, tokenSalt: true } });
    if (node === null) {
      const issued = issueNodeToken(key);
      node = await db.node.create({ data: { name, url, tokenHash: issued.hash, tokenSalt: issued.salt }, select: { id: true, url: true, tokenSalt: true } });
      await db.auditEvent.create({ data: { actorName: "serve --enroll", action: "node.add", entityType: "node", entityName: name, after: JSON.stringify({ url, labels: {} }) } });
    } else if (node.url !== url) {
      await db.node.update({ where: { id: node.id }, data: { url } });
      await db.auditEvent.create({ data: { actorName: "serve --enroll", action: "node.update", entityType: "node", entityName: name, before: JSON.stringify({ url: node.url }), after: JSON.stringify({ url }) } });
    }
    const file = join(tokenDir, `${name}.token`);
    writeFileSync(file, `${nodeToken(key, node.tokenSalt)}\n`, { mode: 0o600 });
    written.push(file);
  }
  return written;
}
