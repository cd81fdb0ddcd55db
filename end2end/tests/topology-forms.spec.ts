import { test, expect, open, resetModel } from "./fixtures";
import type { Page } from "@playwright/test";

async function addService(page: Page, name: string, datastore: string, duration: string) {
  await page.getByTestId("add-service").click();
  const editor = page.getByTestId("service-editor");
  await editor.getByLabel("Name").fill(name);
  await editor.getByLabel("Datastore").selectOption(datastore);
  await editor.getByLabel("Backup method").selectOption("pitr");
  await editor.getByLabel("Backup duration (e.g. 20m)").fill(duration);
  await editor.getByTestId("save-service").click();
  await expect(editor).toHaveCount(0);
  await expect(page.locator(`[data-testid="service-row"][data-service="${name}"]`)).toBeVisible();
}

async function addRelation(page: Page, name: string, from: string, to: string) {
  await page.getByTestId("add-relation").click();
  const editor = page.getByTestId("relation-editor");
  await editor.getByLabel("Name").fill(name);
  await editor.getByLabel("From (holds the reference)").selectOption(from);
  await editor.getByLabel("To (is referred to)").selectOption(to);
  await editor.getByTestId("save-relation").click();
  await expect(editor).toHaveCount(0);
}

test.beforeEach(async ({ request }) => resetModel(request));

const group = (page: Page, service: string) =>
  page.locator(`[data-testid="service-row"][data-service="${service}"] [data-testid="service-group"]`);

test("an architect models three services and two relations by hand", async ({ page }) => {
  await open(page, "/topology");
  await addService(page, "cart", "redis", "5m");
  await addService(page, "pricing", "postgres", "25m");
  await addService(page, "promo", "mongodb", "10m");
  await addRelation(page, "cart.pricing", "cart", "pricing");
  // The second relation starts from the picture: promo's "+".
  await page.getByTestId("topology-graph").getByRole("button", { name: "Add a relation from promo" }).click();
  const editor = page.getByTestId("relation-editor");
  await expect(editor.getByLabel("From (holds the reference)")).toHaveValue("promo");
  await editor.getByLabel("Name").fill("promo.pricing");
  await editor.getByLabel("To (is referred to)").selectOption("pricing");
  await editor.getByTestId("save-relation").click();
  await expect(editor).toHaveCount(0);

  // Both relations are required and uncached: one group, in the list and the picture.
  for (const service of ["cart", "pricing", "promo"]) {
    await expect(group(page, service)).toHaveText("cart");
  }
  const graph = page.getByTestId("topology-graph");
  await expect(graph.locator('[data-relation="cart.pricing"]')).toHaveAttribute("data-policy", "lockstep");
  await expect(graph.getByTestId("graph-cluster")).toHaveAttribute("data-members", "cart pricing promo");

  // Flip one relation to tolerate: promo leaves the group.
  const relation = page.locator('[data-testid="relation-row"][data-relation="promo.pricing"]');
  await relation.getByTestId("flip-policy").click();
  await expect(relation.getByTestId("relation-policy")).toHaveText("tolerate");
  await expect(group(page, "promo")).toHaveText("promo");
  await expect(group(page, "cart")).toHaveText("cart");
  await expect(graph.locator('[data-relation="promo.pricing"]')).toHaveAttribute("data-policy", "tolerate");
  await expect(graph.getByTestId("graph-cluster")).toHaveAttribute("data-members", "cart pricing");
});

test("the service form validates as you type and on save", async ({ page }) => {
  await open(page, "/topology");
  await page.getByTestId("add-service").click();
  const editor = page.getByTestId("service-editor");
  await editor.getByLabel("Name").fill("Not A Slug");
  await expect(editor.getByTestId("problem-service-name")).toContainText("lowercase letters");
  await editor.getByLabel("Name").fill("valid-name");
  await expect(editor.getByTestId("problem-service-name")).toHaveText("");
  await editor.getByLabel("Backup interval (e.g. 24h)").fill("every day");
  await editor.getByTestId("save-service").click();
  await expect(editor.getByTestId("problem-service-backup-interval")).toContainText("24h");
  await expect(editor).toBeVisible();
  await editor.getByRole("button", { name: "Cancel" }).click();
  await expect(page.locator('[data-testid="service-row"][data-service="valid-name"]')).toHaveCount(0);
});

test("deleting a service says which relations go with it", async ({ page }) => {
  await open(page, "/topology");
  await addService(page, "doomed", "other", "1m");
  await addService(page, "survivor", "other", "1m");
  await addRelation(page, "doomed.survivor", "doomed", "survivor");

  await page.locator('[data-testid="service-row"][data-service="doomed"]').getByTestId("delete-service").click();
  const confirm = page.getByTestId("delete-service-confirm");
  await expect(confirm).toContainText("Its 1 relation goes with it: doomed.survivor.");
  await confirm.getByTestId("confirm-delete").click();
  await expect(page.locator('[data-testid="service-row"][data-service="doomed"]')).toHaveCount(0);
  await expect(page.locator('[data-testid="relation-row"][data-relation="doomed.survivor"]')).toHaveCount(0);
  await expect(page.locator('[data-testid="service-row"][data-service="survivor"]')).toBeVisible();
});
