import { test, expect, open } from "./fixtures";
import { ago, report, seedShop } from "./seed";

test("a restore recorded late, then a repair the queue shows verified without a reload", async ({ page, request }) => {
  // The shop of `seedShop` (C/2 and C/3 written after the backup of 4 h
  // ago), and C/4, written after the restore of 2 h ago, with an order
  // referring to it.
  await seedShop(request, false);
  const lost = ago(3);
  const recent = ago(1);
  await report(request, "customers", [{ type: "entity", key: "C/4", at: recent }]);
  await report(request, "orders", [
    { type: "entity", key: "O/3", at: recent },
    { type: "reference", from: "O/3", relation: "order.customer", to: "C/4", observed: recent, at: recent },
  ]);

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
