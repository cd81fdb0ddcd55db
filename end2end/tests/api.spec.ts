import { test, expect, open } from "./fixtures";

test("the API page lists every operation of the served OpenAPI document", async ({ page, request }) => {
  const document = await (await request.get("/api/v1/openapi.json")).json();
  expect(document.openapi).toMatch(/^3\./);
  const expected = Object.values(document.paths as Record<string, object>)
    .map((item) => Object.keys(item).filter((k) => ["get", "put", "post", "patch", "delete"].includes(k)).length)
    .reduce((a, b) => a + b, 0);

  await open(page, "/api");
  await expect(page.getByRole("heading", { level: 1, name: "API" })).toBeVisible();
  await expect(page.getByTestId("api-operation")).toHaveCount(expected);

  // Opening an operation shows its parameters and documented responses.
  const events = page.getByTestId("api-operation").filter({ hasText: "/api/v1/services/{service}/events" });
  await events.locator("summary").click();
  await expect(events).toContainText("application/x-ndjson");
  await expect(events).toContainText("422");
  await expect(events).toContainText("service");

  // The link serves the document itself.
  const href = await page.getByTestId("openapi-link").getAttribute("href");
  expect(href).toBe("/api/v1/openapi.json");
});
