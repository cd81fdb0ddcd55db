-- Collectors (spec §9): `lockstep collect` reads a service's own database
-- and reports its inventory; Lockstep keeps where each collector is, and
-- raises a suspected restore when a collected snapshot shows the service's
-- state going back in time.

-- One row per service a collector reports: its progress as the collector
-- last said it. `watermarks` is the collector's own resume point per
-- source (opaque to Lockstep), advanced only after Lockstep acknowledged
-- the rows before it, so a collector that restarts resumes from here.
create table collector_status (
    service_id bigint primary key references service on delete cascade,
    collector text not null,
    last_seen_at timestamptz not null,
    rows_sent bigint not null default 0,
    lag_seconds double precision,
    last_error text,
    last_error_at timestamptz,
    watermarks jsonb not null default '{}'
);

-- A snapshot that showed entities gone without a delete, or older than
-- Lockstep already had: the evidence, and the recorded backup it most
-- likely came from (the newest taken before the first lost write). One
-- open suspicion per service: a later snapshot showing the same regression
-- updates its evidence and keeps `seen_at`, the first sighting.
create table suspected_restore (
    suspected_restore_id bigint generated always as identity primary key,
    service_id bigint not null references service on delete cascade,
    seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    -- The oldest write the regression lost: the service went back to a
    -- state before it.
    first_lost_at timestamptz not null,
    -- The newest state the snapshot still showed of what regressed: the
    -- backup was taken at or after it.
    restored_state_at timestamptz,
    backup_id bigint references backup on delete set null,
    vanished bigint not null,
    regressed bigint not null,
    status text not null default 'open'
        constraint suspected_restore_status_check check (status in ('open', 'recorded', 'dismissed')),
    restore_id bigint references restore on delete set null,
    decided_by text,
    decided_at timestamptz
);
create unique index suspected_restore_open_idx on suspected_restore (service_id) where status = 'open';
create index suspected_restore_service_idx on suspected_restore (service_id, seen_at);
