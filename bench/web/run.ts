// bench/web: the dashboard's farms page with 10,000 farms next to the same page with 100 (the
// baseline, measured in the same run): time until it is interactive and until a search shows
// its match, in Debian's Chromium against bin/switchyard serve; the server's own time for one
// page of farms; and the JavaScript the main pages make the browser fetch. Prints tables.
// Needs the dashboard built (pnpm --filter @switchyard/web build): it measures what is built.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "@playwright/test";
import { CHROMIUM } from "../../e2e/browser.ts";
import { summarize, table, type Summary } from "../dataplane/stats.ts";
import { benchFarm } from "./seed.ts";
import { ROOT, startControlPlane, type RunningControlPlane } from "./serve.ts";
import { openFarms, scriptBytes, signIn, timeInteractive, timeSearch, type ScriptBytes, type Session } from "./timings.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const BASELINE = Number(flag("--baseline", "100"));
const FARMS = Number(flag("--farms", "10000"));
const RUNS = Number(flag("--runs", "7"));
const AIM = { interactive: 1500, search: 200 };
/** Pages the dashboard has (or will have: a page this checkout lacks is listed as missing). */
const PAGES = ["/login", "/", "/farms", "/farms/new", "/farms/{name}", "/revisions", "/deploys", "/nodes", "/traffic", "/audit", "/import", "/users"];

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v >= 100 ? 0 : 1)} ms`);
const cell = (s: Summary) => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

interface Row {
  farms: number;
  seedMs: number;
  firstLoad: number;
  interactive: Summary;
  search: Summary;
  api: Summary;
}

/** The server's time for one page of farms over HTTP (the session cookie, a different search each time). */
async function timeApi(url: string, session: Session, farms: number): Promise<Summary> {
  const cookie = session.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const input = { query: i % 2 === 0 ? "" : String(benchFarm((i * 97) % farms).name).slice(0, 6), offset: 0, limit: 50 };
    const started = performance.now();
    const response = await fetch(`${url}/trpc/farms.page?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } });
    if (!response.ok) throw new Error(`farms.page: HTTP ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    times.push(performance.now() - started);
  }
  return summarize(times);
}

async function measure(browser: Browser, farms: number, scripts: ScriptBytes[] | null): Promise<Row> {
  process.stderr.write(`  ${farms.toLocaleString("en")} farms: seeding and starting bin/switchyard serve…\n`);
  const server: RunningControlPlane = await startControlPlane(farms);
  try {
    const session = await signIn(server.url);
    // The first visit after a start reads the revision into memory (and Next warms up); the
    // runs after it are what every later visit sees, until the next change.
    const firstLoad = await timeInteractive(browser, server.url, session);
    const interactive: number[] = [];
    for (let i = 0; i < RUNS; i++) interactive.push(await timeInteractive(browser, server.url, session));

    const context = await browser.newContext({ storageState: session });
    const search: number[] = [];
    try {
      const page = await openFarms(context, server.url);
      // A different farm each time (an answer already cached in the page would take no time),
      // none of them on the first page.
      for (let i = 0; i < RUNS; i++) search.push(await timeSearch(page, String(benchFarm(farms - 1 - i * 13).name)));
    } finally {
      await context.close();
    }
    const api = await timeApi(server.url, session, farms);

    if (scripts !== null) {
      const name = String(benchFarm(0).name);
      for (const path of PAGES) scripts.push({ ...(await scriptBytes(browser, server.url, session, path.replace("{name}", name))), path });
    }
    return { farms, seedMs: server.seedMs, firstLoad, interactive: summarize(interactive), search: summarize(search), api };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, "apps/web/.next/BUILD_ID"))) {
    process.stderr.write("bench/web measures the built dashboard: build it first (pnpm --filter @switchyard/web build)\n");
    process.exit(2);
  }
  const started = performance.now();
  process.stderr.write(`bench/web: ${BASELINE} (baseline) and ${FARMS.toLocaleString("en")} farms, ${RUNS} runs each, Chromium at ${CHROMIUM.executablePath}\n`);
  const browser = await chromium.launch(CHROMIUM);
  const rows: Row[] = [];
  const scripts: ScriptBytes[] = [];
  try {
    rows.push(await measure(browser, BASELINE, null));
    rows.push(await measure(browser, FARMS, scripts));
  } finally {
    await browser.close();
  }

  console.log(`\nbench/web — the farms page in Chromium against bin/switchyard serve; median (min–max) of ${RUNS}`);
  console.log(
    table(
      ["farms", "interactive", "search → match", "farms.page over HTTP", "first visit after start", "farms committed in"],
      rows.map((r) => [r.farms.toLocaleString("en"), cell(r.interactive), cell(r.search), cell(r.api), ms(r.firstLoad), ms(r.seedMs)]),
      [true, true, true, true, true, true],
    ),
  );
  const big = rows[rows.length - 1] as Row;
  const base = rows[0] as Row;
  console.log(
    `\n${big.farms.toLocaleString("en")} vs ${base.farms.toLocaleString("en")} farms: interactive ${(big.interactive.median / base.interactive.median).toFixed(2)}×, search ${(big.search.median / base.search.median).toFixed(2)}×` +
      ` · aim: interactive < ${ms(AIM.interactive)} (${big.interactive.median < AIM.interactive ? "met" : "MISSED"}), search < ${ms(AIM.search)} (${big.search.median < AIM.search ? "met" : "MISSED"})`,
  );
  console.log("interactive: navigation start → first row and an editable search box, fresh browser context (nothing cached but the session cookie).");
  console.log("search: the query's input event → the table shows exactly that farm (100 ms typing debounce included).");

  console.log(`\nJavaScript the browser fetches per page (${big.farms.toLocaleString("en")} farms): by the load event, and after it (route prefetches for links in view); raw and gzip`);
  console.log(
    table(
      ["page", "scripts", "raw", "gzip", "later scripts", "later raw", "later gzip"],
      scripts.map((s) =>
        s.missing
          ? [s.path, "-", "(no such page", "in this build)", "", "", ""]
          : [s.path, String(s.scripts), kb(s.raw), kb(s.gzip), String(s.later.scripts), kb(s.later.raw), kb(s.later.gzip)],
      ),
      [false, true, true, true, true, true, true],
    ),
  );
  console.log(`\n(${ms(performance.now() - started)} in all)`);
}

await main();
