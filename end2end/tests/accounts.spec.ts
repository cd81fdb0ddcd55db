import { test, expect, open, resetModel, signIn } from "./fixtures";
import { PASSWORD } from "./accounts";

test.beforeEach(async ({ request }) => resetModel(request));

test.describe("signed out", () => {
  test.use({ anonymous: true });

  test("a page sends you to sign in; a wrong password is refused, the right one lets you in", async ({ page }) => {
    await page.goto("/queue?kind=broken_link");
    await expect(page).toHaveURL(/\/login\?next=\/queue%3Fkind%3Dbroken_link$/);
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

    await page.getByTestId("login-name").fill("vince");
    await page.getByTestId("login-password").fill("not the password");
    await page.getByTestId("login-submit").click();
    await expect(page.getByTestId("error")).toHaveText("wrong name or password");
    await expect(page).toHaveURL(/\/login/);

    await page.getByTestId("login-password").fill(PASSWORD);
    await page.getByTestId("login-password").press("Enter");
    await expect(page).toHaveURL(/\/queue\?kind=broken_link$/);
    await expect(page.getByTestId("signed-in-as")).toContainText("vince");
    await expect(page.getByTestId("signed-in-as")).toContainText("viewer");

    await page.getByTestId("logout").click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/topology");
    await expect(page).toHaveURL(/\/login\?next=\/topology$/);
  });
});

test.describe("each role", () => {
  test.use({ anonymous: true });

  const roles = [
    { name: "vince", operate: false, design: false, admin: false },
    { name: "ann", operate: true, design: false, admin: false },
    { name: "archie", operate: false, design: true, admin: false },
    { name: "e2e-admin", operate: true, design: true, admin: true },
  ] as const;

  for (const role of roles) {
    test(`${role.name} sees only what the role may do`, async ({ page }) => {
      await signIn(page, role.name);
      await open(page, "/topology");
      await expect(page.getByTestId("signed-in-as")).toContainText(role.name);
      await expect(page.getByTestId("add-service")).toBeVisible({ visible: role.design });
      await expect(page.getByRole("link", { name: "Users" })).toBeVisible({ visible: role.admin });

      await open(page, "/queue");
      await expect(page.getByTestId("claim-next")).toBeVisible({ visible: role.operate });

      await open(page, "/restores");
      await expect(page.getByTestId("restore-needs-operator")).toBeVisible({ visible: !role.operate });

      // The server refuses what the page hides.
      const cookies = await page.context().cookies();
      const csrf = cookies.find((c) => c.name === "lockstep_csrf")?.value ?? "";
      const claim = await page.request.post("/api/fn/claim_next", {
        data: { filter: {} },
        headers: { "x-csrf-token": csrf },
      });
      expect(claim.status()).toBe(role.operate ? 200 : 403);
      const users = await page.request.get("/api/v1/users");
      expect(users.status()).toBe(role.admin ? 200 : 403);
    });
  }
});

test("an admin adds an account and the audit log shows it", async ({ page }) => {
  await open(page, "/users");
  const name = `user-${Date.now() % 100000}`;
  await page.getByTestId("new-user-name").fill(name);
  await page.getByTestId("new-user-role").selectOption("operator");
  await page.getByTestId("new-user-password").fill("a fine password");
  await page.getByTestId("new-user-submit").click();
  await expect(page.locator(`[data-testid="user-row"][data-name="${name}"]`)).toBeVisible();
  await expect(page.getByTestId("audit-row").first()).toContainText(`e2e-admin`);
  await expect(page.getByTestId("audit-row").first()).toContainText(`create account`);
  await expect(page.getByTestId("audit-row").first()).toContainText(name);
});
