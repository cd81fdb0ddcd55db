import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";
import { ADMIN_TOKEN, PASSWORD, type AccountName } from "./accounts";

/** Signs the page's browser context in (its cookies: session and CSRF). */
export async function signIn(page: Page, name: AccountName): Promise<void> {
  await page.request.get("/login");
  const cookies = await page.context().cookies();
  const csrf = cookies.find((c) => c.name === "lockstep_csrf")?.value ?? "";
  const res = await page.request.post("/api/fn/login", {
    form: { name, password: PASSWORD },
    headers: { "x-csrf-token": csrf },
  });
  expect(res.status(), `signing in ${name}`).toBe(200);
}

// Every test fails on an uncaught error in the page: a broken hydration
// often shows nothing but a console exception. The page is signed in as
// the suite's admin unless the test says otherwise (`anonymous`).
export const test = base.extend<{ page: Page; anonymous: boolean }>({
  anonymous: [false, { option: true }],
  page: async ({ page, anonymous }, use) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    if (!anonymous) await signIn(page, "e2e-admin");
    await use(page);
    expect(errors, "uncaught errors in the page").toEqual([]);
  },
});

/** Opens a path and waits until the WASM has hydrated it. */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export { expect };

export { ADMIN_TOKEN };

/** Empties the model (and the inventory with it), so a test starts clean. */
export async function resetModel(request: APIRequestContext): Promise<void> {
  const response = await request.put("/api/v1/topology?force=true", {
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/yaml" },
    data: "services: []\nrelations: []\n",
  });
  expect(response.status()).toBe(200);
}
