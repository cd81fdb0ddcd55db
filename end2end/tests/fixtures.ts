import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

// Every test fails on an uncaught error in the page: a broken hydration
// often shows nothing but a console exception.
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await use(page);
    expect(errors, "uncaught errors in the page").toEqual([]);
  },
});

/** Opens a path and waits until the WASM has hydrated it. */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export { expect };

/** The admin token the server under test was started with. */
export const ADMIN_TOKEN = process.env.LOCKSTEP_ADMIN_TOKEN ?? "e2e-admin-token";

/** Empties the model (and the inventory with it), so a test starts clean. */
export async function resetModel(request: APIRequestContext): Promise<void> {
  const response = await request.put("/api/v1/topology?force=true", {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/yaml" },
    data: "services: []\nrelations: []\n",
  });
  expect(response.status()).toBe(200);
}
