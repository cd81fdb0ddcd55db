// cargo-leptos starts the server and this suite at the same moment: wait
// until the server answers its health check before any test runs, then
// make sure the suite's accounts exist (409: left by an earlier run).
import { ACCOUNTS, ADMIN_TOKEN, PASSWORD } from "./tests/accounts";

export default async function globalSetup(): Promise<void> {
  const base = process.env.BASE_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 120_000;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
      last = `${res.status} ${await res.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (Date.now() >= deadline) throw new Error(`server at ${base} never became healthy: ${last}`);
  for (const [name, role] of Object.entries(ACCOUNTS)) {
    const res = await fetch(`${base}/api/v1/users`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name, role, password: PASSWORD }),
    });
    if (res.status !== 201 && res.status !== 409) {
      throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
    }
  }
}
