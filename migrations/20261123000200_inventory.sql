-- The reference inventory the services report, with its history (spec §2, §5).
--
-- Every table that grows with the inventory carries the service it is
-- distributed by (Citus): entities by their own service, references by
-- their *target* service, so a restore's detection query for one service
-- runs on one shard group. Primary keys include that column.

-- A service's epoch starts at 0 and grows by one with each restore.
alter table service add column epoch integer not null default 0;

-- Every reported version of every entity. `valid_to` is the next version's
-- `updated_at` (null while current): "what did B hold at t" is
-- `updated_at <= t and (valid_to is null or valid_to > t)`.
create table entity_version (
    service_id bigint not null references service on delete cascade,
    key text not null,
    updated_at timestamptz not null,
    epoch integer not null default 0,
    deleted boolean not null default false,
    data jsonb,
    valid_to timestamptz,
    recorded_at timestamptz not null default now(),
    primary key (service_id, key, updated_at)
);

-- Every version of every reference: added (or re-observed) at `valid_from`,
-- a `removed` version ends its live period.
create table reference_version (
    target_service_id bigint not null references service on delete cascade,
    target_key text not null,
    source_service_id bigint not null references service on delete cascade,
    source_key text not null,
    relation_id bigint not null references relation on delete cascade,
    -- The target's last-update time as the source last saw it.
    observed_at timestamptz,
    -- The source's cached copy of the target, if it keeps one.
    cache jsonb,
    removed boolean not null default false,
    valid_from timestamptz not null,
    valid_to timestamptz,
    recorded_at timestamptz not null default now(),
    primary key (target_service_id, target_key, source_service_id, source_key, relation_id, valid_from)
);
create index reference_version_source_idx
    on reference_version (source_service_id, source_key, relation_id, valid_from);
-- The live references only: dependency counters, referrers, per-relation counts.
create index reference_live_target_idx on reference_version (target_service_id, target_key)
    where valid_to is null and not removed;
create index reference_live_source_idx on reference_version (source_service_id, relation_id)
    where valid_to is null and not removed;

-- The current state of each entity, kept in step with the versions by every
-- ingest: the dependency counter (live incoming references) and the
-- `to_delete` flag of an entity deleted while still referred to.
create table entity (
    service_id bigint not null references service on delete cascade,
    key text not null,
    updated_at timestamptz not null,
    epoch integer not null default 0,
    deleted boolean not null default false,
    dependents integer not null default 0,
    to_delete boolean not null default false,
    primary key (service_id, key)
);

-- Event sequence numbers already applied, for idempotent replays.
create table ingested_event (
    service_id bigint not null references service on delete cascade,
    seq bigint not null,
    ingested_at timestamptz not null default now(),
    primary key (service_id, seq)
);

create table backup (
    backup_id bigint generated always as identity primary key,
    service_id bigint not null references service on delete cascade,
    taken_at timestamptz not null,
    epoch integer not null,
    label text,
    created_at timestamptz not null default now()
);
create index backup_service_idx on backup (service_id, taken_at);

-- Tokens a service posts its own inventory with; only a hash is kept.
create table service_token (
    service_token_id bigint generated always as identity primary key,
    service_id bigint not null references service on delete cascade,
    token_sha256 text not null constraint service_token_hash_key unique,
    created_at timestamptz not null default now()
);
