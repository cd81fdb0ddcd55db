// The suite's accounts (created by global-setup through the admin API).

/** The admin token the server under test was started with. */
export const ADMIN_TOKEN = process.env.LOCKSTEP_ADMIN_TOKEN ?? "e2e-admin-token";

export const PASSWORD = "e2e-password-1";

export const ACCOUNTS = {
  "e2e-admin": "admin",
  ann: "operator",
  bob: "operator",
  archie: "architect",
  vince: "viewer",
} as const;

export type AccountName = keyof typeof ACCOUNTS;
