import { test, expect, open, resetModel, signIn, ADMIN_TOKEN } from "./fixtures";

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

// The demo shop: three days of inventory, backups, and orders already
// restored from its backup of six hours ago.
test.beforeEach(async ({ request }) => {
  await resetModel(request);
  const demo = await request.post("/api/v1/demo", { headers: auth });
  expect(demo.status()).toBe(201);
});

test("an operator drills, then records a restore and sees its findings", async ({ page }) => {
  await open(page, "/restores");
  // The demo's restore of orders is in the history already.
  await expect(page.getByTestId("restore-row")).toHaveCount(1);

  await page.getByTestId("restore-service").selectOption("customers");
  await page.getByTestId("restore-backup").selectOption({ index: 1 });
  await page.getByTestId("drill-button").click();
  const outcome = page.getByTestId("restore-outcome");
  await expect(outcome).toContainText("Drill of customers");
  await expect(outcome).toContainText("nothing changed");
  // The newest backup (six hours old) predates the two newest customers,
  // which orders refer to.
  const broken = outcome.locator('[data-testid="outcome-count"][data-kind="broken_link"]');
  await expect(broken).not.toHaveText("Broken links: 0");
  const predicted = await broken.textContent();
  await expect(page.getByTestId("restore-row")).toHaveCount(2);

  await page.getByTestId("restore-button").click();
  await page.getByTestId("confirm-restore").click();
  await expect(outcome).toContainText("Restore of customers recorded");
  await expect(outcome.locator('[data-kind="broken_link"]')).toHaveText(predicted!);
  await outcome.getByRole("link", { name: /Work these findings/ }).click();
  await expect(page).toHaveURL(/\/queue\?restore=\d+/);
  await expect(page.getByTestId("finding-row").first()).toBeVisible();
  const rows = await page.getByTestId("finding-row").count();
  expect(rows).toBeGreaterThan(0);
  // Every row belongs to the customers restore: customers is on one side.
  for (const text of await page.getByTestId("finding-row").allTextContents()) {
    expect(text).toContain("customers");
  }
});

test("two operators: a claim shows up live for the other, who is refused", async ({ browser }) => {
  const ann = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await signIn(ann, "ann");
  await signIn(bob, "bob");
  await open(ann, "/queue?kind=broken_link");
  await open(bob, "/queue?kind=broken_link");

  const first = ann.getByTestId("finding-row").first();
  const id = await first.getAttribute("data-id");
  await first.click();
  await ann.getByTestId("claim-button").click();
  await expect(ann.getByTestId("detail-status")).toHaveText("claimed by ann");

  // Bob did not reload: the server pushed the change.
  const bobsRow = bob.locator(`[data-testid="finding-row"][data-id="${id}"]`);
  await expect(bobsRow.getByTestId("finding-status")).toHaveText("claimed by ann");
  await bobsRow.click();
  await bob.getByTestId("claim-button").click();
  await expect(bob.getByTestId("error")).toContainText(`finding ${id} is claimed by ann`);

  // Ann resolves with a note; the audit trail keeps both steps.
  await ann.getByTestId("resolve-strategy").selectOption("reconstruct");
  await ann.getByTestId("resolve-note").fill("re-entered from the order confirmation e-mail");
  await ann.getByTestId("resolve-button").click();
  await expect(ann.getByTestId("detail-status")).toHaveText("resolved");
  const trail = ann.getByTestId("audit-trail");
  await expect(trail).toContainText("ann claim (open → claimed)");
  await expect(trail).toContainText("ann resolve (claimed → resolved)");
  await expect(trail).toContainText("re-entered from the order confirmation e-mail");
  await expect(bobsRow.getByTestId("finding-status")).toHaveText("resolved");
  await ann.context().close();
  await bob.context().close();
});

test("bulk-accepting a filter, then exporting it as CSV", async ({ page }) => {
  await open(page, "/queue");
  await page.getByTestId("filter-kind").selectOption("missing_state");
  await page.getByTestId("filter-apply").click();
  await expect(page).toHaveURL(/kind=missing_state/);
  const count = await page.getByTestId("finding-row").count();
  expect(count).toBeGreaterThan(0);

  await page.getByTestId("bulk-filter-accept").click();
  await expect(page.getByTestId("queue-notice")).toHaveText(`${count} changed, 0 skipped (held by others or not applicable)`);
  // The rows are fetched again after the notice shows: wait for them (a
  // one-off read of their texts raced the refetch).
  await expect(page.getByTestId("finding-status")).toHaveText(Array(count).fill("accepted"));
  const accepted = page.locator('[data-testid="count-row"][data-kind="missing_state"] [data-status="accepted"]');
  await expect(accepted).toHaveText(String(count));

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("export-csv").click(),
  ]);
  expect(download.suggestedFilename()).toBe("findings.csv");
  const fs = await import("node:fs/promises");
  const csv = await fs.readFile((await download.path())!, "utf8");
  const lines = csv.trim().split("\n");
  expect(lines[0]).toMatch(/^id,restore_id,scan_id,kind,relation/);
  expect(lines).toHaveLength(count + 1);
  expect(lines.slice(1).every((l) => l.includes(",missing_state,") && l.includes(",accepted,e2e-admin,"))).toBe(true);
});
