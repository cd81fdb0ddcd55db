// Inventory written through the public API, for the specs that need a
// restore's findings on their pages.
import type { APIRequestContext } from "@playwright/test";
import { expect, resetModel, ADMIN_TOKEN } from "./fixtures";

export const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const HOUR = 3_600_000;

/** An instant `hours` ago, as RFC 3339. */
export const ago = (hours: number) => new Date(Date.now() - hours * HOUR).toISOString();

/** Posts NDJSON events for a service. */
export async function report(request: APIRequestContext, service: string, events: object[]): Promise<void> {
  const response = await request.post(`/api/v1/services/${service}/events`, {
    headers: { ...auth, "Content-Type": "application/x-ndjson" },
    data: events.map((e) => JSON.stringify(e)).join("\n"),
  });
  expect(response.status(), await response.text()).toBe(200);
}

/** customers, the orders referring to it and the invoices keeping a copy. */
export const SHOP_WITH_INVOICES =
  "services: [{name: customers}, {name: orders}, {name: invoices}]\n" +
  "relations:\n" +
  "  - {name: order.customer, from: orders, to: customers}\n" +
  "  - {name: invoice.customer, from: invoices, to: customers, cached: true}\n";

/** Empties the database and puts `model` (YAML) as the topology. */
export async function putModel(request: APIRequestContext, model: string): Promise<void> {
  await resetModel(request);
  const put = await request.put("/api/v1/topology", {
    headers: { ...auth, "Content-Type": "application/yaml" },
    data: model,
  });
  expect(put.status(), await put.text()).toBe(200);
}

/** customers (C/1 before a backup 4 h ago, C/2 and C/3 after it) and the
 *  orders referring to them, with the backup recorded; `restored` also
 *  records the restore (two broken links in the queue). */
export async function seedShop(request: APIRequestContext, restored: boolean): Promise<void> {
  await putModel(request, "services: [{name: customers}, {name: orders}]\nrelations: [{name: order.customer, from: orders, to: customers}]\n");
  const lost = ago(3);
  await report(request, "customers", [
    { type: "entity", key: "C/1", at: ago(5) },
    { type: "entity", key: "C/2", at: lost },
    { type: "entity", key: "C/3", at: lost },
  ]);
  await report(request, "orders", [
    { type: "entity", key: "O/1", at: lost },
    { type: "entity", key: "O/2", at: lost },
    { type: "reference", from: "O/1", relation: "order.customer", to: "C/2", observed: lost, at: lost },
    { type: "reference", from: "O/2", relation: "order.customer", to: "C/3", observed: lost, at: lost },
  ]);
  const backup = await request.post("/api/v1/services/customers/backups", { headers: auth, data: { taken_at: ago(4) } });
  expect(backup.status()).toBe(201);
  if (restored) {
    const restore = await request.post("/api/v1/services/customers/restores", {
      headers: auth,
      data: { taken_at: ago(4), restored_at: ago(2) },
    });
    expect(restore.status(), await restore.text()).toBe(201);
  }
}
