// The user paths that change something, in a browser with JavaScript off
// (the "no-javascript" project): plain HTML forms that post, carry the CSRF
// token in a hidden field, and redirect.
import { test, expect } from "./fixtures";
import { auth, seedShop } from "./seed";

test.describe("signed out", () => {
  test.use({ anonymous: true });

  test("signing in and out with plain forms", async ({ page }) => {
    await page.goto("/queue");
    await expect(page).toHaveURL(/\/login\?next=/);
    await page.getByTestId("login-name").fill("e2e-admin");
    await page.getByTestId("login-password").fill("not the password");
    await page.getByTestId("login-submit").click();
    await expect(page.getByRole("alert")).toContainText("wrong name or password");
    // The password never goes into the address.
    expect(page.url()).not.toContain("password");
    await page.getByTestId("login-name").fill("e2e-admin");
    await page.getByTestId("login-password").fill("e2e-password-1");
    await page.getByTestId("login-submit").click();
    await expect(page).toHaveURL(/\/queue$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Reconciliation queue");
    await page.getByTestId("logout").click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/queue");
    await expect(page).toHaveURL(/\/login\?next=/);
  });
});

test("the topology upload applies a pasted document", async ({ page, request }) => {
  await seedShop(request, false);
  await page.goto("/topology");
  const yaml = "services: [{name: customers}, {name: orders}, {name: billing}]\n" +
    "relations: [{name: order.customer, from: orders, to: customers}]\n";
  await page.locator("#topology-document").fill(yaml);
  await page.getByTestId("apply-topology").click();
  await expect(page).toHaveURL(/\/topology\??$/);
  const model = await (await request.get("/api/v1/topology", { headers: auth })).json();
  expect(model.services.map((s: { name: string }) => s.name)).toEqual(["billing", "customers", "orders"]);
});

test("a drill and a restore recorded from the restores page", async ({ page, request }) => {
  await seedShop(request, false);
  await page.goto("/restores");
  await page.getByTestId("restore-service").selectOption("customers");
  await page.getByTestId("restore-backup").selectOption({ index: 1 });
  await page.getByTestId("drill-button").click();
  await expect(page).toHaveURL(/\/restores\??$/);
  await page.getByTestId("restore-service").selectOption("customers");
  await page.getByTestId("restore-backup").selectOption({ index: 1 });
  await page.getByTestId("restore-button").click();
  await expect(page).toHaveURL(/\/restores\??$/);
  // Both are in the history.
  await expect(page.getByTestId("restore-row")).toHaveCount(2);
  await expect(page.locator('[data-testid="restore-row"][data-drill="true"]')).toHaveCount(1);
});

test("a finding claimed and resolved from the queue's plain forms", async ({ page, request }) => {
  await seedShop(request, true);
  await page.goto("/queue");
  const row = page.getByTestId("finding-row").filter({ hasText: "C/2" });
  await row.getByRole("link").click();
  await expect(page).toHaveURL(/finding=\d+/);
  const detail = page.getByTestId("finding-detail");
  await detail.getByTestId("claim-button").click();
  await expect(detail.getByTestId("detail-status")).toContainText("claimed");
  await detail.getByTestId("resolve-strategy").selectOption("replay");
  await detail.getByTestId("resolve-note").fill("re-sent by hand");
  await detail.getByTestId("resolve-button").click();
  await expect(detail.getByTestId("detail-status")).toContainText("resolved");
  await expect(detail.getByTestId("audit-trail")).toContainText("re-sent by hand");
});

test("a cause decided from the queue's plain form", async ({ page, request }) => {
  await seedShop(request, true);
  await page.goto("/queue?restore=" + (await restoreId(request)));
  const cause = page.getByTestId("cause");
  await expect(cause).toHaveCount(1);
  await expect(cause.getByTestId("cause-counts")).toHaveText("2 open");
  await cause.getByTestId("cause-action").selectOption("accept");
  await cause.getByTestId("cause-note").fill("known gap, accepted");
  await cause.getByTestId("cause-decide").click();
  await expect(page.getByTestId("cause").getByTestId("cause-counts")).toHaveText("2 accepted");
});

/** The one restore's id, from its causes. */
async function restoreId(request: import("@playwright/test").APIRequestContext): Promise<number> {
  const causes = await (await request.get("/api/v1/findings/causes", { headers: auth })).json();
  return causes[0].restore_id;
}
