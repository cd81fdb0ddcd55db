import { test as base, expect, type Page } from "@playwright/test";

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
