import { expect, test, type Page } from "@playwright/test";
import { ADMIN, connect, fleet, keepScreenshot, signIn, startAgent, stopAgent } from "./fleet.ts";

// The scenarios, in order, through the dashboard in Chromium: a farm made in the form
// reaches both nodes' kernels and real connections through each node reach both backends; a
// toggle, a rollback, the audit log, a refused form, a viewer, and a node that was down.

const VIP = "198.18.1.100";
const [b1, b2] = fleet.backends;

test.describe.configure({ mode: "serial" });

/** Follows a link of the main navigation. */
function nav(page: Page, name: string): Promise<void> {
  return page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
}

/** Waits until the Deploys page says the revision runs on every node. */
async function deployed(page: Page, revision: number): Promise<void> {
  await nav(page, "Deploys");
  await expect(page.getByText(`Revision ${revision} runs on all ${fleet.nodes.length} nodes`).first()).toBeVisible({ timeout: 30_000 });
}

/** Where 20 real connections through each node went (backend name → count), once every node agrees with `expected`. */
async function trafficOnEveryNode(expected: string[]): Promise<void> {
  for (const [i] of fleet.nodes.entries()) {
    await expect
      .poll(async () => Object.keys((await connect(i, VIP, 80, 20)).byBackend).sort(), { timeout: 15_000, message: `backends reached through ${fleet.nodes[i]?.name}` })
      .toEqual(expected);
  }
}

test("1. an operator creates a farm with two backends in the form; both nodes run it; connections reach both backends", async ({ page }) => {
  await signIn(page, fleet.users.operator);
  await nav(page, "Farms");
  await page.getByRole("link", { name: "New farm" }).click();
  await expect(page).toHaveURL(/\/farms\/-\/new$/);
  await page.getByLabel("Name", { exact: true }).fill("web");
  await page.getByLabel("Virtual address", { exact: true }).fill(VIP);
  await page.getByLabel("Virtual ports").fill("80");
  await page.getByLabel("Scheduler").selectOption("rr");
  for (const [i, backend] of [b1, b2].entries()) {
    await page.getByRole("button", { name: "Add backend" }).click();
    await page.getByLabel(`Backend ${i + 1} name`).fill(backend?.name ?? "");
    await page.getByLabel(`Backend ${i + 1} address`).fill(backend?.address ?? "");
    await page.getByLabel(`Backend ${i + 1} port`).fill("8080");
  }
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByLabel("Ruleset diff")).toContainText(VIP);
  await keepScreenshot(page, "farm-editor-new");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/farms\/web/);
  await deployed(page, 1);
  await keepScreenshot(page, "deploys");
  await trafficOnEveryNode([b1?.name ?? "", b2?.name ?? ""].sort());
  await nav(page, "Farms");
  await expect(page.getByRole("table", { name: "Farms" }).getByRole("link", { name: "web" })).toBeVisible();
  await keepScreenshot(page, "farms");
});

test("2. a backend toggled off in the table: new connections reach only the other", async ({ page }) => {
  await signIn(page, fleet.users.operator);
  await page.goto(`${fleet.url}/farms/web`);
  await page.getByLabel("Backend 2 state").getByRole("radio", { name: "off" }).click();
  await deployed(page, 2);
  await trafficOnEveryNode([b1?.name ?? ""]);
});

test("3. a rollback to the first revision from the timeline: traffic reaches both backends again", async ({ page }) => {
  await signIn(page, fleet.users.operator);
  await nav(page, "Revisions");
  await keepScreenshot(page, "revisions");
  await page.getByRole("button", { name: "Roll back to revision 1" }).click();
  const dialog = page.getByRole("dialog", { name: "Roll back to revision 1" });
  // The confirmation shows what will change before anything does.
  await expect(dialog).toContainText("off");
  await keepScreenshot(page, "rollback-dialog");
  await dialog.getByRole("button", { name: "Roll back", exact: true }).click();
  await expect(dialog).toContainText("revision 3");
  await page.keyboard.press("Escape");
  await deployed(page, 3);
  await trafficOnEveryNode([b1?.name ?? "", b2?.name ?? ""].sort());
});

test("4. the audit log shows the three changes, by the operator, each with its diff", async ({ page }) => {
  await signIn(page, fleet.users.operator);
  await nav(page, "Audit log");
  const rows = page.getByRole("row").filter({ hasText: fleet.users.operator.username }).filter({ hasText: "farm web" });
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText("rolled back farm web");
  await expect(rows.nth(2)).toContainText("created farm web");
  // The toggle's entry opens onto the field that changed, before → after.
  await rows.nth(1).getByRole("button", { name: /Show changes/ }).click();
  await expect(page.getByText(/state/).filter({ hasText: "off" }).first()).toBeVisible();
  await keepScreenshot(page, "audit");
});

test("5. a bad address in the form: the error is under the field and nothing is saved", async ({ page }) => {
  await signIn(page, fleet.users.operator);
  // /farms/new is the page of a farm named "new" (there is none), not the form.
  await page.goto(`${fleet.url}/farms/new`);
  await expect(page.getByText("There is no farm named new")).toBeVisible();
  await page.goto(`${fleet.url}/farms/-/new`);
  await page.getByLabel("Name", { exact: true }).fill("bad");
  const address = page.getByLabel("Virtual address", { exact: true });
  await address.fill("198.18.1.300");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(address).toHaveAttribute("aria-invalid", "true");
  await expect(address).toHaveAccessibleDescription(/address/i);
  await keepScreenshot(page, "farm-editor-error");
  await nav(page, "Revisions");
  await expect(page.getByRole("listitem", { name: "Revision 3" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Revision 4" })).toHaveCount(0);
  await page.goto(`${fleet.url}/farms?query=bad`);
  await expect(page.getByRole("table", { name: "Farms" }).getByRole("link", { name: "bad" })).toHaveCount(0);
});

test("6a. a viewer sees everything and can change nothing", async ({ page }) => {
  await signIn(page, fleet.users.viewer);
  await nav(page, "Farms");
  await expect(page.getByRole("table", { name: "Farms" }).getByRole("link", { name: "web" })).toBeVisible();
  await expect(page.getByRole("link", { name: "New farm" })).toHaveCount(0);
  await expect(page.getByRole("table", { name: "Farms" }).getByRole("checkbox")).toHaveCount(0);
  await page.getByRole("link", { name: "web" }).click();
  await expect(page.getByLabel("Backend 1 address")).toHaveValue(b1?.address ?? "");
  await expect(page.getByRole("button", { name: "Save" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Add backend" })).toHaveCount(0);
  await nav(page, "Revisions");
  await expect(page.getByRole("listitem", { name: "Revision 3" })).toBeVisible();
  await expect(page.getByRole("button", { name: /Roll back/ })).toHaveCount(0);
  await nav(page, "Nodes");
  await expect(page.getByRole("heading", { name: fleet.nodes[0]?.name ?? "" })).toBeVisible();
  await expect(page.getByRole("button", { name: /Add node/ })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Users & tokens" })).toHaveCount(0);
});

test("6b. a stopped agent shows as out of date, then catches up when it is back", async ({ page }) => {
  const lb2 = fleet.nodes[1]?.name ?? "";
  await stopAgent(1);
  await signIn(page, fleet.users.operator);
  await page.goto(`${fleet.url}/farms/web`);
  await page.getByLabel("Backend 2 state").getByRole("radio", { name: "down" }).click();
  await nav(page, "Nodes");
  const card = page.getByRole("region", { name: lb2 });
  await expect(card.getByText(/unreachable|out of date|failing/).first()).toBeVisible({ timeout: 30_000 });
  await keepScreenshot(page, "nodes-one-down");
  await startAgent(1);
  // The control plane reconciles every 2 s here (serve --reconcile 2).
  await expect(card.getByText("in sync").first()).toBeVisible({ timeout: 30_000 });
  await keepScreenshot(page, "nodes");
  await trafficOnEveryNode([b1?.name ?? ""]);
  await nav(page, "Overview");
  await keepScreenshot(page, "overview-after");
});

test("7. the other main screens open without errors on this history (screenshots kept)", async ({ page }) => {
  await signIn(page, ADMIN);
  const main = page.getByRole("main");
  for (const [path, heading, shot] of [
    ["/traffic", "Traffic", "traffic"],
    ["/revisions/diff?from=1&to=2", "Compare revisions", "revision-diff"],
    ["/import", "Import / export", "import"],
    ["/users", "Users & tokens", "users"],
  ] as const) {
    await page.goto(`${fleet.url}${path}`);
    await expect(main.getByRole("heading", { level: 1 })).toContainText(heading);
    // Whatever the page still loads (a node's rendered ruleset) is in the screenshot.
    await expect(main.getByText(/^(Loading|Rendering)/)).toHaveCount(0);
    await expect(main.getByRole("alert").filter({ hasNotText: /^$/ })).toHaveCount(0);
    if (path === "/traffic") {
      // Connections that reached both nodes' backends above: their bytes are counted, per backend.
      await expect(main.getByText(/every packet and byte/)).toBeVisible();
      await expect(main.getByRole("columnheader", { name: /^Bytes\/s/ })).toBeVisible({ timeout: 15_000 });
      await expect(main.getByLabel("Charts show")).toHaveValue("bytes");
      // From the second reading (3 s apart) the charts draw the rates, farm by farm and backend by backend.
      await expect(main.getByRole("img", { name: /^Bytes\/s for web: / })).toBeVisible({ timeout: 15_000 });
      await expect(main.getByRole("img", { name: /^Bytes\/s of the backends of web: b1: .*, b2: / })).toBeVisible();
      // Connections while the page is open: the next readings show their bytes as a rate above zero.
      await connect(0, VIP, 80, 20);
      await expect(main.getByRole("img", { name: /^Bytes\/s for web: (?!0 B\/s)\d/ })).toBeVisible({ timeout: 15_000 });
    }
    await keepScreenshot(page, shot);
  }
});
