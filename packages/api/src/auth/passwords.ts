import { hash, verify } from "@node-rs/argon2";

// Passwords as argon2id hashes (@node-rs/argon2's defaults: 19 MiB, 2 passes, OWASP's
// recommendation); the text of the hash carries its parameters, so they can be raised later.

export const MIN_PASSWORD_LENGTH = 10;

export function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH) throw new Error(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  return hash(password);
}

/** False for a wrong password or a hash that is not argon2's. */
export async function passwordMatches(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** What a failed login costs when the user does not exist, so that timing does not tell which names exist. */
let decoy: Promise<string> | null = null;
export async function wasteAVerify(password: string): Promise<void> {
  decoy ??= hash("switchyard-decoy-password");
  await passwordMatches(await decoy, password);
}
