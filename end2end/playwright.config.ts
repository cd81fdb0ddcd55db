import { defineConfig } from "@playwright/test";

const baseURL = process.env.BASE_URL ?? "http://127.0.0.1:3000";

// Debian's Chromium, never a downloaded browser (scripts/tools.sh --e2e).
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  // The same browser twice: with the WASM, and with JavaScript off for the
  // user paths that must work before and without it.
  projects: [
    {
      name: "chromium-hydrate",
      use: { javaScriptEnabled: true },
      testIgnore: /without-javascript\.spec\.ts/,
    },
    {
      name: "no-javascript",
      use: { javaScriptEnabled: false },
      testMatch: /without-javascript\.spec\.ts/,
    },
  ],
});
