-- What restores, drills and the integrity scan find (spec §5), and the runs
-- of the integrity scan. The restore columns are filled by restores (a later
-- migration adds the restore table and its foreign key).

create table scan (
    scan_id bigint generated always as identity primary key,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    counts jsonb not null default '{}'
);

create table finding (
    finding_id bigint generated always as identity primary key,
    restore_id bigint,
    scan_id bigint references scan on delete cascade,
    kind text not null constraint finding_kind_check check (kind in
        ('broken_link', 'stale_reference', 'orphan_candidate', 'missing_state', 'dangling_delete')),
    relation_id bigint references relation on delete set null,
    source_service_id bigint not null references service on delete cascade,
    source_key text not null,
    target_service_id bigint not null references service on delete cascade,
    target_key text not null,
    observed_at timestamptz,
    target_updated_at timestamptz,
    amnesia_from timestamptz,
    amnesia_to timestamptz,
    strategy text not null constraint finding_strategy_check check (strategy in
        ('reconstruct', 'ignore', 'cache', 'replay', 'decide')),
    cached jsonb,
    status text not null default 'open' constraint finding_status_check check (status in
        ('open', 'claimed', 'resolved', 'accepted', 'dismissed')),
    assignee text,
    note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint finding_origin_check check ((restore_id is null) <> (scan_id is null))
);
select trigger_updated_at('finding');
create index finding_target_idx on finding (target_service_id, target_key);
create index finding_status_idx on finding (status, finding_id);
