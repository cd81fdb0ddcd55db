-- The architect's model: services and the relations between them.
-- Enumerated attributes are checked text, spelled as in the topology document.

create table service (
    service_id bigint generated always as identity primary key,
    name text not null constraint service_name_key unique,
    team text,
    description text,
    datastore text constraint service_datastore_check check (datastore in
        ('postgres', 'mysql', 'mongodb', 'redis', 'cassandra', 'elasticsearch', 's3', 'kafka', 'rabbitmq', 'other')),
    pattern text constraint service_pattern_check check (pattern in ('snapshot', 'event-sourced')),
    backup_method text constraint service_backup_method_check
        check (backup_method in ('logical-dump', 'pitr', 'volume-snapshot', 'none')),
    backup_interval_s bigint check (backup_interval_s >= 0),
    backup_duration_s bigint check (backup_duration_s >= 0),
    prefers text constraint service_prefers_check check (prefers in ('availability', 'consistency')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
select trigger_updated_at('service');

create table relation (
    relation_id bigint generated always as identity primary key,
    -- Services name the relation in the references they report ("order.customer").
    name text not null constraint relation_name_key unique,
    from_service_id bigint not null references service on delete cascade,
    to_service_id bigint not null references service on delete cascade,
    kind text not null default 'reference' constraint relation_kind_check check (kind in ('reference', 'mirror')),
    required boolean not null default true,
    cached boolean not null default false,
    -- null: the default policy (lockstep when required and not cached).
    policy text constraint relation_policy_check check (policy in ('lockstep', 'tolerate')),
    on_broken text constraint relation_on_broken_check check (on_broken in ('reconstruct', 'ignore', 'cache')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
select trigger_updated_at('relation');
create index relation_from_service_idx on relation (from_service_id);
create index relation_to_service_idx on relation (to_service_id);
