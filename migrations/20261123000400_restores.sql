-- Restores and drills (spec §5, §6) and the reconciliation queue's audit
-- trail.

-- A restore (or a drill, which changes nothing but is kept for history):
-- the service, the backup's time, the new epoch it started, the amnesia
-- interval and what it found.
create table restore (
    restore_id bigint generated always as identity primary key,
    service_id bigint not null references service on delete cascade,
    backup_id bigint references backup on delete set null,
    backup_taken_at timestamptz not null,
    restored_at timestamptz not null,
    drill boolean not null default false,
    -- The epoch the restore started (a drill: the one it would start).
    epoch integer not null,
    amnesia_from timestamptz not null,
    amnesia_to timestamptz,
    -- Findings per kind, and per kind and referring service.
    counts jsonb not null default '{}',
    by_service jsonb not null default '[]',
    recorded_by text not null,
    created_at timestamptz not null default now()
);
create index restore_service_idx on restore (service_id, created_at);

alter table finding
    add constraint finding_restore_fk foreign key (restore_id) references restore on delete cascade;

-- Queue filters: every filter below is an equality on an indexed column,
-- and the page is a keyset range on finding_id.
create index finding_restore_idx on finding (restore_id, finding_id) where restore_id is not null;
create index finding_kind_idx on finding (kind, status, finding_id);
create index finding_source_idx on finding (source_service_id, finding_id);
create index finding_target_service_idx on finding (target_service_id, finding_id);

-- Every change of a finding's status: who, when, from what to what, why.
create table finding_event (
    finding_event_id bigint generated always as identity primary key,
    finding_id bigint not null references finding on delete cascade,
    actor text not null,
    action text not null constraint finding_event_action_check check (action in
        ('claim', 'resolve', 'accept', 'dismiss', 'reopen', 'release')),
    from_status text not null,
    to_status text not null,
    strategy text,
    note text,
    at timestamptz not null default now()
);
create index finding_event_finding_idx on finding_event (finding_id, at);

-- The strategy a finding suggests (spec §1, §5), in one place for restores
-- and drills: a cached copy repairs a broken link or a lost update; without
-- one the relation's on_broken choice, an informational relation can be
-- ignored, an event-sourced service can replay, the rest is reconstructed
-- by hand. Missing state is replayed; an orphan needs a decision.
create function suggested_strategy(kind text, on_broken text, required boolean,
                                   has_copy boolean, event_sourced boolean)
returns text language sql immutable as $$
    select case
        when kind = 'orphan_candidate' then 'decide'
        when kind = 'missing_state' then 'replay'
        when has_copy and coalesce(on_broken, 'cache') = 'cache' then 'cache'
        when on_broken = 'ignore' or (on_broken is null and not required) then 'ignore'
        when kind = 'stale_reference' and event_sourced then 'replay'
        else 'reconstruct'
    end
$$;
