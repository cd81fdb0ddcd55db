// Every page checked with axe-core (WCAG 2.1 A and AA rules) with data on
// it: no serious or critical violation. And the keyboard: the controls are
// reached with Tab and show where the focus is.
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { test, expect, open } from "./fixtures";
import { seedShop } from "./seed";

const PAGES = [
  "/",
  "/topology",
  "/groups",
  "/inventory",
  "/inventory/customers",
  "/restores",
  "/queue",
  "/users",
  "/api",
  "/no/such/page",
];

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

test.beforeAll(async ({ request }) => {
  await seedShop(request, true);
});

for (const path of PAGES) {
  for (const scheme of ["light", "dark"] as const) {
    test(`${path} has no serious accessibility violation (${scheme})`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: scheme });
      if (path === "/no/such/page") await page.goto(path);
      else await open(page, path);
      expect(await seriousViolations(page)).toEqual([]);
    });
  }
}

test.describe("signed out", () => {
  test.use({ anonymous: true });

  test("the sign-in page has no serious accessibility violation", async ({ page }) => {
    await open(page, "/login");
    expect(await seriousViolations(page)).toEqual([]);
  });

  test("signing in takes only the keyboard, with the focus visible", async ({ page }) => {
    await open(page, "/login?next=/queue");
    // The name field has the focus on arrival.
    await expect(page.getByTestId("login-name")).toBeFocused();
    await page.keyboard.type("e2e-admin");
    await page.keyboard.press("Tab");
    await expect(page.getByTestId("login-password")).toBeFocused();
    await page.keyboard.type("e2e-password-1");
    await page.keyboard.press("Tab");
    const submit = page.getByTestId("login-submit");
    await expect(submit).toBeFocused();
    const outline = await submit.evaluate((el) => {
      const style = getComputedStyle(el);
      return { outline: style.outlineStyle, shadow: style.boxShadow };
    });
    expect(outline.outline !== "none" || outline.shadow !== "none", JSON.stringify(outline)).toBe(true);
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/queue$/);
  });
});

test("the queue is worked from the keyboard", async ({ page }) => {
  await open(page, "/queue");
  // Tab from the top of the page reaches "Claim next" (skipping nothing
  // that needs a mouse on the way).
  const claim = page.getByTestId("claim-next");
  for (let i = 0; i < 40 && !(await claim.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(claim).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("finding-detail")).toBeVisible();
});
