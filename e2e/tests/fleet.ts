import { expect, type Page } from "@playwright/test";

// What the browser tests know of the fleet that global-setup started, and how they drive it.

interface Info {
  url: string;
  control: string;
  users: Record<"operator" | "viewer", { username: string; password: string }>;
  nodes: { name: string; url: string }[];
  backends: { name: string; address: string }[];
}

export const fleet: Info = JSON.parse(process.env.E2E_FLEET ?? "null") ?? (() => {
  throw new Error("E2E_FLEET is not set: run through playwright.config.ts (global-setup starts the fleet)");
})();

export const ADMIN = { username: "admin", password: "admin-pass-123" };

export async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${fleet.url}/login`);
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("viewer-name")).toHaveText(user.username);
}

async function control(path: string, body: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(`${fleet.control}${path}`, { method: "POST", body: JSON.stringify(body) });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${path}: ${JSON.stringify(answer)}`);
  return answer;
}

/** Real TCP connections from node i's client through its balancer to `target:port`; where they went. */
export async function connect(node: number, target: string, port: number, count = 20): Promise<{ byBackend: Record<string, number>; failed: number }> {
  return (await control("/connect", { node, target, port, count })) as { byBackend: Record<string, number>; failed: number };
}

export const stopAgent = (node: number) => control("/agent/stop", { node });
export const startAgent = (node: number) => control("/agent/start", { node });

/** A full-page screenshot kept with the run's artifacts (.ci-out/e2e/screens). */
export async function keepScreenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `../.ci-out/e2e/screens/${name}.png`, fullPage: true });
}
