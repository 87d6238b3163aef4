import { createHmac, randomBytes } from "node:crypto";
import { sha256Hex } from "@switchyard/core";

// A node's token is what the control plane presents to that node's agent (Authorization:
// Bearer). It is shown once, when the node is added, for the agent's --token-file. The database
// keeps only its hash and a salt: the token is HMAC(control plane key, salt), and the key lives
// in the control plane's data dir, not in the database, so a copy of the database alone cannot
// speak to any agent. A new salt rotates the token.

export interface IssuedToken {
  token: string;
  salt: string;
  hash: string;
}

export function nodeToken(key: Buffer, salt: string): string {
  return createHmac("sha256", key).update(`switchyard-node-token\0${salt}`).digest("base64url");
}

export function issueNodeToken(key: Buffer): IssuedToken {
  const salt = randomBytes(16).toString("base64url");
  const token = nodeToken(key, salt);
  return { token, salt, hash: sha256Hex(token) };
}
