import { test, expect, open, resetModel } from "./fixtures";
import { ago, auth, report } from "./seed";

test("a restore recorded late, then a repair the queue shows verified without a reload", async ({ page, request }) => {
  await resetModel(request);
  const model = "services: [{name: customers}, {name: orders}]\nrelations: [{name: order.customer, from: orders, to: customers}]\n";
  const put = await request.put("/api/v1/topology", {
    headers: { ...auth, "Content-Type": "application/yaml" },
    data: model,
  });
  expect(put.status()).toBe(200);
  // customers: C/1 before the backup (4 h ago), C/2 and C/3 after it; the
  // restore happened 2 h ago and C/4 was written since.
  const lost = ago(3);
  const recent = ago(1);
  await report(request, "customers", [
    { type: "entity", key: "C/1", at: ago(5) },
    { type: "entity", key: "C/2", at: lost },
    { type: "entity", key: "C/3", at: lost },
    { type: "entity", key: "C/4", at: recent },
  ]);
  await report(request, "orders", [1, 2, 3].map((n) => ({ type: "entity", key: `O/${n}`, at: recent })));
  await report(request, "orders", [
    { type: "reference", from: "O/1", relation: "order.customer", to: "C/2", observed: lost, at: lost },
    { type: "reference", from: "O/2", relation: "order.customer", to: "C/3", observed: lost, at: lost },
    { type: "reference", from: "O/3", relation: "order.customer", to: "C/4", observed: recent, at: recent },
  ]);
  const backup = await request.post("/api/v1/services/customers/backups", { headers: auth, data: { taken_at: ago(4) } });
  expect(backup.status()).toBe(201);

  await open(page, "/restores");
  await page.getByTestId("restore-service").selectOption("customers");
  await page.getByTestId("restore-backup").selectOption({ index: 1 });
  // When did the restore happen? Two hours ago (UTC, to the minute).
  await page.getByTestId("restore-restored-at").fill(ago(2).slice(0, 16));
  await page.getByTestId("restore-button").click();
  await page.getByTestId("confirm-restore").click();
  const outcome = page.getByTestId("restore-outcome");
  await expect(outcome).toContainText("Restore of customers recorded");
  // C/4, written after the restore, is kept: two broken links, not three.
  await expect(outcome.locator('[data-kind="broken_link"]')).toHaveText("Broken links: 2");
  await outcome.getByRole("link", { name: /Work these findings/ }).click();
  await expect(page.getByTestId("finding-row")).toHaveCount(2);
  const repaired = page.getByTestId("finding-row").filter({ hasText: "C/2" });
  const other = page.getByTestId("finding-row").filter({ hasText: "C/3" });
  await expect(repaired.getByTestId("finding-status")).toHaveText("open");

  // customers re-applies C/2 from a copy, keeping the copy's time.
  await report(request, "customers", [{ type: "entity", key: "C/2", at: lost }]);
  await expect(repaired.getByTestId("finding-status")).toHaveText("verified by the inventory");
  await expect(other.getByTestId("finding-status")).toHaveText("open");
  await repaired.click();
  await expect(page.getByTestId("audit-trail")).toContainText("lockstep verify (open → resolved)");
  await expect(page.getByTestId("audit-trail")).toContainText("C/2 exists again, epoch 1");
});
