import { execFileSync } from "node:child_process";
import { test, expect, open, resetModel } from "./fixtures";
import { auth } from "./seed";

// The live demo: orders, customers and payments in real databases (the
// server's LOCKSTEP_DEMO_DATABASES, which scripts/test.sh gives it), a
// workload writing to them and collectors reporting them. A real restore
// of orders from its dump (`lockstep demo disaster orders`, the binary in
// LOCKSTEP_BIN) is suspected, recorded from the restores page, and its
// findings are in the queue.
test("the live demo's disaster is recorded from its suspicion and fills the queue", async ({ page, request }) => {
  test.setTimeout(120_000);
  const binary = process.env.LOCKSTEP_BIN;
  expect(binary, "LOCKSTEP_BIN names the lockstep binary (scripts/test.sh sets it)").toBeTruthy();
  await resetModel(request);
  const started = await request.post("/api/v1/demo?live=true", { headers: auth });
  expect(started.status(), await started.text()).toBe(201);
  try {
    // The shop's 80 orders arrive, then the workload's new ones.
    await expect
      .poll(async () => {
        await open(page, "/inventory");
        return Number(await page.locator('[data-testid="inventory-row"][data-service="payments"] td').nth(1).textContent());
      }, { timeout: 60_000, intervals: [1_000] })
      .toBeGreaterThan(81);
    await expect(page.locator('[data-testid="collector-row"][data-service="orders"]')).toContainText("live demo");

    execFileSync(binary!, ["demo", "disaster", "orders"], { stdio: "inherit" });

    await expect
      .poll(async () => {
        await open(page, "/restores");
        return page.getByTestId("suspected-restore").count();
      }, { timeout: 60_000, intervals: [1_000] })
      .toBe(1);
    const suspicion = page.getByTestId("suspected-restore");
    await expect(suspicion).toContainText("orders");
    await expect(suspicion).toContainText("gone without a delete");
    await expect(suspicion).toContainText("most likely restored from the backup of");
    await suspicion.getByTestId("record-suspected").click();
    await expect(page.getByTestId("suspected-restores")).toHaveCount(0);
    const row = page.getByTestId("restore-row").first();
    await expect(row).toContainText("orders");
    await row.getByRole("link", { name: /Restore #/ }).click();
    await expect(page).toHaveURL(/\/queue\?restore=\d+/);
    // The queue opens on the restore's causes: payments lost its orders.
    await expect(page.getByTestId("cause").filter({ hasText: "payments → orders" }).first()).toBeVisible();
    await expect(page.getByTestId("finding-row").first()).toBeVisible();
  } finally {
    await request.delete("/api/v1/demo/live", { headers: auth });
    await resetModel(request);
  }
});
