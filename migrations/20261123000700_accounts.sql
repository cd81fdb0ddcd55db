-- Accounts and their roles (issue 6). Passwords are kept as argon2 PHC
-- strings only.
create table account (
    account_id bigint generated always as identity primary key,
    name text not null constraint account_name_key unique
        constraint account_name_check check (name ~ '^[A-Za-z0-9._-]{1,40}$'),
    role text not null constraint account_role_check check (role in ('viewer', 'operator', 'architect', 'admin')),
    password_hash text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
select trigger_updated_at('account');

-- Who changed what, for admins: topology changes, restores and drills,
-- accounts, tokens. Queue decisions have their own trail (finding_event).
create table audit_event (
    audit_event_id bigint generated always as identity primary key,
    actor text not null,
    action text not null,
    subject text not null,
    detail jsonb,
    at timestamptz not null default now()
);
create index audit_event_at_idx on audit_event (at desc);

-- Sessions, in the shape tower-sessions' PostgreSQL store reads and writes
-- (its own `migrate()` would create the same; here it is part of the
-- schema every database gets, test databases included).
create schema tower_sessions;
create table tower_sessions.session (
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);
create index session_expiry_idx on tower_sessions.session (expiry_date);
