// What an operator waits for on the farms page, timed inside Chromium (performance.now() of the
// page, so that Playwright's own round trips are not counted).
import { gzipSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "@playwright/test";
import { USER } from "./serve.ts";

export type Session = Awaited<ReturnType<BrowserContext["storageState"]>>;

/**
 * Signs in over the API (auth.login sets the session cookie), so that no page has been visited
 * before the first one measured; browser contexts start from that cookie.
 */
export async function signIn(url: string): Promise<Session> {
  const response = await fetch(`${url}/trpc/auth.login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(USER) });
  const cookie = /sy_session=([^;]+)/.exec(response.headers.get("set-cookie") ?? "");
  if (!response.ok || !cookie?.[1]) throw new Error(`auth.login: HTTP ${response.status} ${await response.text()}`);
  const { hostname } = new URL(url);
  return { cookies: [{ name: "sy_session", value: cookie[1], domain: hostname, path: "/", expires: -1, httpOnly: true, secure: false, sameSite: "Strict" }], origins: [] };
}

// In-page code as text: this package is compiled without the DOM's types.
const INTERACTIVE = `(() => {
  const row = document.querySelector('table[aria-label="Farms"] tbody tr th a');
  const box = document.querySelector('input[type="search"]');
  return row !== null && box instanceof HTMLInputElement && !box.disabled && !box.readOnly ? performance.now() : false;
})()`;

/**
 * From navigation start to the first row of the farms table on screen with the search box
 * there and editable (the table is drawn by React, so it is hydrated by then). A fresh browser
 * context each time: nothing cached but the session cookie.
 */
export async function timeInteractive(browser: Browser, url: string, session: Session): Promise<number> {
  const context = await browser.newContext({ storageState: session });
  try {
    const page = await context.newPage();
    await page.goto(`${url}/farms`, { waitUntil: "commit" });
    const handle = await page.waitForFunction(INTERACTIVE, undefined, { polling: "raf", timeout: 30_000 });
    return (await handle.jsonValue()) as number;
  } finally {
    await context.close();
  }
}

/**
 * From the input event of a query typed into the search box (at once, as a paste) to the
 * table showing exactly the farm searched for: debounce, request, server, render.
 */
export async function timeSearch(page: Page, name: string): Promise<number> {
  await page.evaluate(`(() => {
    delete window.searchStart;
    document.querySelector('input[type="search"]').addEventListener("input", () => (window.searchStart = performance.now()), { capture: true, once: true });
  })()`);
  await page.locator('input[type="search"]').fill(name);
  const handle = await page.waitForFunction(
    `(() => {
      const rows = document.querySelectorAll('table[aria-label="Farms"] tbody tr');
      return window.searchStart !== undefined && rows.length === 1 && rows[0].querySelector("th")?.textContent === ${JSON.stringify(name)} ? performance.now() - window.searchStart : false;
    })()`,
    undefined,
    { polling: "raf", timeout: 10_000 },
  );
  return (await handle.jsonValue()) as number;
}

/** The farms page, signed in and showing its first page of farms. */
export async function openFarms(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/farms`);
  await page.waitForFunction(INTERACTIVE, undefined, { polling: "raf" });
  return page;
}

export interface ScriptBytes {
  path: string;
  /** The scripts that arrived by the page's load event (what the page itself needs)… */
  scripts: number;
  raw: number;
  gzip: number;
  /** …and those after it (route prefetches for the links in view, chunks loaded on demand). */
  later: { scripts: number; raw: number; gzip: number };
  /** The page answered 404 (a page this checkout does not have). */
  missing: boolean;
}

/** How long no script may arrive before a page counts as done (polling and prefetches keep "networkidle" from coming). */
const QUIET_MS = 1_500;

const sizes = (buffers: readonly Buffer[]) => ({
  scripts: buffers.length,
  raw: buffers.reduce((n, b) => n + b.length, 0),
  gzip: buffers.reduce((n, b) => n + gzipSync(b).length, 0),
});

/** The JavaScript a page makes the browser fetch, raw and gzipped (each script at gzip's default level), by its load event and after. */
export async function scriptBytes(browser: Browser, url: string, session: Session, path: string): Promise<ScriptBytes> {
  const context = await browser.newContext({ storageState: session });
  try {
    const page = await context.newPage();
    const bodies = new Map<string, { late: boolean; body: Promise<Buffer | null> }>();
    let loaded = false;
    let last = performance.now();
    page.on("response", (response) => {
      if (response.request().resourceType() !== "script" || bodies.has(response.url())) return;
      last = performance.now();
      // A prefetch the router aborted has no body: it was not sent.
      bodies.set(response.url(), { late: loaded, body: response.body().catch(() => null) });
    });
    const answer = await page.goto(`${url}${path}`, { waitUntil: "load" });
    loaded = true;
    const deadline = performance.now() + 15_000;
    while (performance.now() - last < QUIET_MS && performance.now() < deadline) await page.waitForTimeout(100);
    const settled = await Promise.all([...bodies.values()].map(async ({ late, body }) => ({ late, body: await body })));
    const kept = (late: boolean) => settled.filter((s) => s.late === late && s.body !== null).map((s) => s.body as Buffer);
    return { path, ...sizes(kept(false)), later: sizes(kept(true)), missing: answer?.status() === 404 };
  } finally {
    await context.close();
  }
}
