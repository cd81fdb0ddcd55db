import { test, expect, open, resetModel } from "./fixtures";

test.beforeEach(async ({ request }) => resetModel(request));

const THREE_SERVICES = `services:
  - name: orders
    datastore: postgres
    backup: { method: pitr, duration: 10m }
  - name: customers
    datastore: mongodb
    backup: { method: logical-dump, duration: 40m }
  - name: shipping
    datastore: mysql
relations:
  - { name: order.customer, from: orders, to: customers }
  - { name: shipment.order, from: shipping, to: orders }
`;

test("an architect applies a topology, sees the groups and splits one", async ({ page }) => {
  await open(page, "/topology");
  await page.getByLabel("Topology document").fill(THREE_SERVICES);
  await page.getByTestId("apply-topology").click();
  await expect(page.getByTestId("upload-ok")).toHaveText("Applied: 3 services modelled.");

  // Both relations are required and uncached: one group of three.
  const rows = page.getByTestId("service-row");
  await expect(rows).toHaveCount(3);
  for (const name of ["customers", "orders", "shipping"]) {
    await expect(page.locator(`[data-testid="service-row"][data-service="${name}"] [data-testid="service-group"]`)).toHaveText("customers");
  }

  // The picture draws every service and relation, and shades the group.
  const graph = page.getByTestId("topology-graph");
  await expect(graph.getByTestId("graph-node")).toHaveCount(3);
  await expect(graph.locator('[data-relation="shipment.order"]')).toHaveAttribute("data-policy", "lockstep");
  await expect(graph.getByTestId("graph-cluster")).toHaveCount(1);

  // Tolerating shipment.order splits shipping off.
  const relation = page.locator('[data-testid="relation-row"][data-relation="shipment.order"]');
  await expect(relation.getByTestId("relation-policy")).toHaveText("lockstep");
  await relation.getByTestId("flip-policy").click();
  await expect(relation.getByTestId("relation-policy")).toHaveText("tolerate");
  await expect(page.locator('[data-testid="service-row"][data-service="shipping"] [data-testid="service-group"]')).toHaveText("shipping");
  await expect(page.locator('[data-testid="service-row"][data-service="orders"] [data-testid="service-group"]')).toHaveText("customers");
  await expect(graph.locator('[data-relation="shipment.order"]')).toHaveAttribute("data-policy", "tolerate");

  // A click on a service in the picture opens its row.
  await graph.locator('[data-testid="graph-node"][data-service="shipping"]').click();
  await expect(page).toHaveURL(/#service-shipping$/);

  // The groups page tells the price of the remaining group.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Lockstep groups" }).click();
  const group = page.locator('[data-testid="lockstep-group"][data-group="customers"]');
  await expect(group.getByTestId("group-member")).toHaveText(["customers", "orders"]);
  await expect(group).toContainText("freezes writes to all 2 services for 40m");
  await expect(page.getByTestId("exposure")).toContainText("shipment.order");
});

test("a rejected document lists its problems and changes nothing", async ({ page }) => {
  await open(page, "/topology");
  const before = await page.getByTestId("service-row").count();
  await page.getByLabel("Topology document").fill("services:\n  - name: a\nrelations:\n  - { name: r, from: a, to: ghost }\n");
  await page.getByTestId("apply-topology").click();
  const error = page.getByTestId("error");
  await expect(error).toContainText("rejected");
  await expect(error).toContainText('line 4: relations[0].to: unknown service "ghost"');
  await page.reload();
  await expect(page.getByTestId("service-row")).toHaveCount(before);
});

test("a topology file can be loaded from disk and applied", async ({ page }) => {
  await open(page, "/topology");
  await page.locator("#topology-document-file").setInputFiles({
    name: "topology.yaml",
    mimeType: "application/yaml",
    buffer: Buffer.from("services:\n  - { name: billing, datastore: postgres }\n  - { name: ledger }\nrelations:\n  - { name: bill.ledger, from: billing, to: ledger, kind: mirror }\n"),
  });
  await expect(page.getByLabel("Topology document")).toHaveValue(/name: billing/);
  await page.getByTestId("apply-topology").click();
  await expect(page.getByTestId("upload-ok")).toHaveText("Applied: 2 services modelled.");
  await expect(page.getByTestId("service-row")).toHaveCount(2);
  await expect(page.locator('[data-testid="relation-row"][data-relation="bill.ledger"]')).toContainText("mirror");
});

test("a Backstage catalog is imported with what was skipped and why", async ({ page }) => {
  await open(page, "/topology");
  const catalog = [
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: checkout }\nspec: { owner: group:default/payments-team, dependsOn: [resource:checkout-db, component:billing] }",
    "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: { name: checkout-db }\nspec: { type: database }",
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: billing }\nspec: { owner: finance }",
    "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: { name: shop }",
  ].join("\n---\n");
  await page.getByLabel("Catalog (multi-document YAML)").fill(catalog);
  await page.getByTestId("import-backstage").click();
  await expect(page.getByTestId("import-report")).toContainText("Imported 2 services and 1 relations.");
  await expect(page.getByTestId("import-skipped")).toContainText(["system shop: systems group components"]);
  const row = page.locator('[data-testid="service-row"][data-service="checkout"]');
  await expect(row).toContainText("payments-team");
  await expect(row).toContainText("postgres");
  await expect(page.locator('[data-testid="relation-row"][data-relation="checkout.billing"]')).toContainText("checkout → billing");
});
