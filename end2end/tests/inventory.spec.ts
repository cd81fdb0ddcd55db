import { test, expect, open, resetModel, ADMIN_TOKEN } from "./fixtures";

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

test.beforeEach(async ({ request }) => resetModel(request));

const ndjson = (events: object[]) => events.map((e) => JSON.stringify(e)).join("\n");

test("an operator browses a service's inventory and finds an entity's referrers", async ({ page, request }) => {
  const topology = await request.put("/api/v1/topology", {
    headers: { ...auth, "Content-Type": "application/yaml" },
    data: "services: [{name: customers}, {name: orders}]\nrelations:\n  - { name: order.customer, from: orders, to: customers, cached: true }\n",
  });
  expect(topology.status()).toBe(200);
  const customers = await request.post("/api/v1/services/customers/events", {
    headers: auth,
    data: ndjson([
      { type: "entity", key: "C/7", at: "2026-11-01T08:00:00Z", data: { name: "Grace" } },
      { type: "entity", key: "C/7", at: "2026-11-01T09:30:00Z", data: { name: "Grace H." } },
    ]),
  });
  expect(customers.status()).toBe(200);
  const orders = await request.post("/api/v1/services/orders/events", {
    headers: auth,
    data: ndjson([
      { type: "entity", key: "O/1", at: "2026-11-01T10:00:00Z" },
      { type: "reference", from: "O/1", relation: "order.customer", to: "C/7",
        observed: "2026-11-01T09:30:00Z", at: "2026-11-01T10:00:00Z", cache: { name: "Grace H." } },
    ]),
  });
  expect(orders.status()).toBe(200);
  const backup = await request.post("/api/v1/services/customers/backups", {
    headers: auth,
    data: { taken_at: "2026-11-01T09:00:00Z", label: "nightly" },
  });
  expect(backup.status()).toBe(201);

  await open(page, "/inventory");
  const row = page.locator('[data-testid="inventory-row"][data-service="customers"]');
  // entities, references held, referred to by, last event (ingest time), backups
  await expect(row.locator("td")).toHaveText(["customers", "1", "0", "1", /UTC$/, "1"]);
  await row.getByRole("link", { name: "customers" }).click();
  await expect(page).toHaveURL("/inventory/customers");
  await expect(page.getByTestId("service-name")).toHaveText("customers");
  await expect(page.getByTestId("relation-count")).toContainText(["order.customer ← orders"]);
  await expect(page.getByTestId("backup")).toContainText(["nightly"]);

  await page.getByLabel("Entity key").fill("C/7");
  await page.getByRole("button", { name: "Find" }).click();
  await expect(page).toHaveURL(/key=C%2F7/);
  const detail = page.getByTestId("entity-detail");
  await expect(detail.getByTestId("entity-version")).toHaveCount(2);
  await expect(detail.getByTestId("dependents")).toHaveText("1 live referrer(s)");
  const referrer = detail.getByTestId("referrer");
  await expect(referrer).toContainText("orders · O/1");
  await expect(referrer).toContainText("2026-11-01 09:30:00 UTC");
  await expect(referrer).toContainText('"name": "Grace H."');

  await page.getByLabel("Entity key").fill("C/404");
  await page.getByRole("button", { name: "Find" }).click();
  await expect(page.getByTestId("entity-missing")).toContainText('never reported an entity "C/404"');

  // Deleting a service that holds inventory is refused until forced.
  await open(page, "/topology");
  await page.locator('[data-testid="service-row"][data-service="orders"]').getByTestId("delete-service").click();
  const confirm = page.getByTestId("delete-service-confirm");
  await confirm.getByTestId("confirm-delete").click();
  await expect(confirm.getByTestId("error")).toContainText("would drop the inventory reported for it");
  await expect(page.locator('[data-testid="service-row"][data-service="orders"]')).toBeVisible();
  await confirm.getByTestId("force-delete").click();
  await expect(page.locator('[data-testid="service-row"][data-service="orders"]')).toHaveCount(0);
});
