import { test, expect, open } from "./fixtures";

const SECTIONS = [
  { link: "Topology", path: "/topology", heading: "Topology" },
  { link: "Lockstep groups", path: "/groups", heading: "Lockstep groups" },
  { link: "Inventory", path: "/inventory", heading: "Inventory" },
  { link: "Restores", path: "/restores", heading: "Restores" },
  { link: "Queue", path: "/queue", heading: "Reconciliation queue" },
];

test("the overview links to every section", async ({ page }) => {
  await open(page, "/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Overview");
  await expect(page).toHaveTitle("Overview · Lockstep");
});

for (const section of SECTIONS) {
  test(`the ${section.link} page opens from the navigation`, async ({ page }) => {
    await open(page, "/");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: section.link, exact: true }).click();
    await expect(page).toHaveURL(section.path);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(section.heading);
    await expect(nav.getByRole("link", { name: section.link, exact: true })).toHaveAttribute(
      "aria-current",
      "page",
    );
  });
}

test("an unknown address shows the not-found page with status 404", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toBeVisible();
});

test("the theme toggle works once hydrated and is remembered", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await open(page, "/");
  const html = page.locator("html");
  const toggle = page.getByTestId("theme-toggle");
  await expect(html).not.toHaveClass(/dark/);
  await expect(toggle).toHaveAttribute("aria-pressed", "false");

  await toggle.click();
  await expect(html).toHaveClass(/dark/);
  await expect(toggle).toHaveAttribute("aria-pressed", "true");

  await page.reload();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).not.toHaveClass(/dark/);
});
