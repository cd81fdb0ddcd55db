// Causes (spec §8): an operator works a restore cause by cause — downloads
// a repair kit, re-applies it through the API and watches the cause's bar
// fill with verified findings, then decides the other cause at once.
import { readFile } from "node:fs/promises";
import type { APIRequestContext } from "@playwright/test";
import { test, expect, open } from "./fixtures";
import { ago, auth, putModel, report, SHOP_WITH_INVOICES } from "./seed";

/** customers restored to a backup of 4 h ago, losing C/1..C/6: invoices
 *  keep a copy of C/1..C/3 (a cached-copy cause), orders refer to
 *  C/4..C/6 (a cause to reconstruct). Returns the restore's id. */
async function seedCauses(request: APIRequestContext): Promise<number> {
  await putModel(request, SHOP_WITH_INVOICES);
  const lost = ago(3);
  const keys = [1, 2, 3, 4, 5, 6];
  await report(request, "customers", keys.map((i) => ({ type: "entity", key: `C/${i}`, at: lost })));
  await report(request, "invoices", [1, 2, 3].flatMap((i) => [
    { type: "entity", key: `I/${i}`, at: lost },
    { type: "reference", from: `I/${i}`, relation: "invoice.customer", to: `C/${i}`, observed: lost, at: lost,
      cache: { name: `customer ${i}` } },
  ]));
  await report(request, "orders", [4, 5, 6].flatMap((i) => [
    { type: "entity", key: `O/${i}`, at: lost },
    { type: "reference", from: `O/${i}`, relation: "order.customer", to: `C/${i}`, observed: lost, at: lost },
  ]));
  const restore = await request.post("/api/v1/services/customers/restores", {
    headers: auth,
    data: { taken_at: ago(4), restored_at: ago(2) },
  });
  expect(restore.status(), await restore.text()).toBe(201);
  return (await restore.json()).id;
}

test("a restore's causes: a kit re-applied fills the bar, a decision clears the rest", async ({ page, request }) => {
  const restore = await seedCauses(request);
  await open(page, `/queue?restore=${restore}`);
  const causes = page.getByTestId("cause");
  await expect(causes).toHaveCount(2);
  await expect(page.getByTestId("restore-timeline")).toBeVisible();
  await expect(page.getByTestId("burndown-now")).toContainText("Amber pending 6, green verified 0");
  const cached = causes.filter({ hasText: "invoices → customers" });
  await expect(cached.getByTestId("cause-counts")).toHaveText("3 open");

  // The kit, downloaded from the cause's link.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    cached.getByTestId("kit-ndjson").click(),
  ]);
  const lines = (await readFile(await download.path(), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.map((l) => l.key)).toEqual(["C/1", "C/2", "C/3"]);
  expect(lines[0].data).toEqual({ name: "customer 1" });

  // customers re-applies each copy with its observed time; the page was
  // not reloaded: the bar fills as the verifications arrive.
  await report(request, "customers", lines.map((l) => ({ type: "entity", key: l.key, at: l.observed, data: l.data })));
  await expect(cached.getByTestId("cause-counts")).toHaveText("3 verified");
  await expect(cached.locator('[data-bucket="verified"]')).toHaveCount(1);
  await expect(cached.getByTestId("cause-decide")).toHaveCount(0);
  await expect(page.getByTestId("burndown-now")).toContainText("Amber pending 3, green verified 3");

  // The other cause: one decision for its three findings.
  const orders = causes.filter({ hasText: "orders → customers" });
  await orders.getByTestId("cause-action").selectOption("dismiss");
  await orders.getByTestId("cause-note").fill("orders C/4–C/6 were test data");
  await orders.getByTestId("cause-decide").click();
  await expect(page.getByTestId("cause-notice")).toHaveText("3 findings decided, 0 skipped (claimed by another operator)");
  await expect(orders.getByTestId("cause-counts")).toHaveText("3 dismissed");

  // Its rows, each with the decision in its audit trail.
  await orders.getByTestId("cause-rows").click();
  await expect(page).toHaveURL(/cause=\d+/);
  await expect(page.getByTestId("cause-heading")).toBeVisible();
  await expect(page.getByTestId("finding-row")).toHaveCount(3);
  await page.getByTestId("finding-row").first().click();
  await expect(page.getByTestId("audit-trail")).toContainText("orders C/4–C/6 were test data");
});
