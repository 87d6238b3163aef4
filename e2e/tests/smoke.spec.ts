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
