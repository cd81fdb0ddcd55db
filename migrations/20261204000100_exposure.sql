-- Exposure, measured (spec §10): what a restore of each service to its
-- latest backup would break, drilled on a schedule and kept as a time
-- series. One measurement run stamps all its rows with the same `at`, so
-- a group's or a relation's figures add up per run.
create table exposure (
    service_id bigint not null references service on delete cascade,
    at timestamptz not null,
    backup_id bigint references backup on delete set null,
    backup_taken_at timestamptz not null,
    -- Findings per kind, every kind present.
    counts jsonb not null,
    -- Findings per relation name and kind: {"order.customer": {"broken_link": 3}}.
    by_relation jsonb not null,
    primary key (service_id, at)
);
-- The groups page and /metrics read the newest runs.
create index exposure_at_idx on exposure (at);
