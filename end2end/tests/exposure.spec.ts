// Exposure, measured (spec §10): the groups page charts what a restore to
// the latest backups would leave, run after run, and the restores page
// ranks a service's backups beside the group's consistent alternative.
import type { APIRequestContext } from "@playwright/test";
import { test, expect, open } from "./fixtures";
import { ago, auth, putModel, report, SHOP_WITH_INVOICES } from "./seed";

/** customers and orders in lockstep (order.customer), invoices tolerated
 *  (a cached copy): C/1..C/3, O/1..O/3 and I/1 written 3 h ago, after
 *  backups of customers and orders taken 4 h ago. */
async function seedExposure(request: APIRequestContext): Promise<void> {
  await putModel(request, SHOP_WITH_INVOICES);
  const lost = ago(3);
  await report(request, "customers", [1, 2, 3].map((i) => ({ type: "entity", key: `C/${i}`, at: lost })));
  await report(request, "orders", [1, 2, 3].flatMap((i) => [
    { type: "entity", key: `O/${i}`, at: lost },
    { type: "reference", from: `O/${i}`, relation: "order.customer", to: `C/${i}`, observed: lost, at: lost },
  ]));
  await report(request, "invoices", [
    { type: "entity", key: "I/1", at: lost },
    { type: "reference", from: "I/1", relation: "invoice.customer", to: "C/1", observed: lost, at: lost,
      cache: { name: "customer 1" } },
  ]);
  for (const service of ["customers", "orders"]) {
    const backup = await request.post(`/api/v1/services/${service}/backups`, {
      headers: auth,
      data: { taken_at: ago(4) },
    });
    expect(backup.status()).toBe(201);
  }
}

async function measure(request: APIRequestContext): Promise<void> {
  const run = await request.post("/api/v1/exposure", { headers: auth });
  expect(run.status(), await run.text()).toBe(201);
}

test("the groups page charts each exposure run beside the freeze window", async ({ page, request }) => {
  await seedExposure(request);
  await measure(request);
  await measure(request);
  await open(page, "/groups");
  const group = page.getByTestId("lockstep-group").filter({ hasText: "customers" });
  await expect(group.getByTestId("exposure-run")).toHaveCount(2);
  // Restoring customers alone breaks the three orders' and the invoice's
  // references to it.
  await expect(group.getByTestId("exposure-now")).toContainText("restoring customers: 4");
  const tolerated = page.getByTestId("exposure").filter({ hasText: "invoice.customer" });
  await expect(tolerated.getByTestId("exposure-now")).toContainText("1 findings");

  // More written since the backups: the next run moves the chart (the
  // group adds orders' own drill, two orphans, to customers' figure).
  await report(request, "orders", [
    { type: "entity", key: "O/4", at: ago(1) },
    { type: "reference", from: "O/4", relation: "order.customer", to: "C/1", observed: ago(1), at: ago(1) },
  ]);
  await measure(request);
  await page.reload();
  await expect(group.getByTestId("exposure-run")).toHaveCount(3);
  await expect(group.getByTestId("exposure-now")).toContainText("restoring customers: 5");
  await expect(group.getByTestId("exposure-chart")).toHaveAttribute("aria-label", /7 findings now, 6 at/);
});

test("a plan ranks the backups of a service beside the group restored to one point", async ({ page, request }) => {
  await seedExposure(request);
  const late = await request.post("/api/v1/services/customers/backups", {
    headers: auth,
    data: { taken_at: ago(2), label: "after the writes" },
  });
  expect(late.status()).toBe(201);
  await open(page, "/restores");
  const form = page.getByTestId("plan-form");
  await form.getByLabel("Service").selectOption("customers");
  await form.getByTestId("plan-button").click();
  await expect(page).toHaveURL(/plan=customers/);
  const rows = page.getByTestId("plan-backup");
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("after the writes");
  await expect(rows.first().getByTestId("plan-findings")).toHaveText("0");
  await expect(rows.nth(1).getByTestId("plan-findings")).toHaveText("4");
  const alternative = page.getByTestId("group-alternative");
  await expect(alternative).toContainText("is consistent");
  // orders goes back to its own backup of 4 h ago, losing its 6 writes.
  await expect(alternative.getByTestId("group-member-loss").filter({ hasText: "orders" })).toContainText("6 writes lost");
});
