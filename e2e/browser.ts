import type { LaunchOptions } from "@playwright/test";

// Debian's Chromium (apt-get install chromium), never a downloaded browser; no network calls of its own.
export const CHROMIUM: LaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
};
