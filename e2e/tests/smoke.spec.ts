import { expect, test } from "@playwright/test";
import { ADMIN, fleet, keepScreenshot, signIn } from "./fleet.ts";

test("sign-in leads to the overview, which lists both nodes of the fleet", async ({ page }) => {
  await page.goto(`${fleet.url}/`);
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "wrong username or password" })).toBeVisible();
  await signIn(page, ADMIN);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview", exact: true }).click();
  for (const node of fleet.nodes) await expect(page.getByRole("main").getByText(node.name, { exact: true }).first()).toBeVisible();
  await keepScreenshot(page, "overview");
});

test("an admin edits a node's labels; the answer names the farms the node now gets", async ({ page }) => {
  await signIn(page, ADMIN);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Nodes", exact: true }).click();
  const lb1 = page.getByRole("region", { name: fleet.nodes[0]?.name ?? "" });
  await lb1.getByRole("button", { name: "Edit labels" }).click();
  const dialog = page.getByRole("dialog", { name: `Labels of ${fleet.nodes[0]?.name}` });
  await dialog.getByLabel("Labels").fill("zone=a,zone=b");
  await dialog.getByRole("button", { name: "Save labels" }).click();
  await expect(dialog.getByLabel("Labels")).toHaveAccessibleDescription(/twice/);
  await dialog.getByLabel("Labels").fill("zone=a");
  await dialog.getByRole("button", { name: "Save labels" }).click();
  // Farms without node labels go to every node: the farm the operator made is still there.
  await expect(dialog).toContainText(/now gets \d+ farms?/);
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(lb1.getByRole("list", { name: `Labels of ${fleet.nodes[0]?.name}` })).toContainText("zone=a");
});
