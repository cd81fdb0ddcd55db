-- Life after a restore (spec §5b): the lost branch of a restored service's
-- history, idempotency per epoch, findings that verify themselves, and one
-- finding per condition with the restores and scans that met it.

-- A version of a restored service's lost branch: written in an old epoch
-- after the backup the restore came from. It is kept (the entity's history
-- shows it) but never current; its validity is empty (`valid_to` is its own
-- start), so "what did B hold at t" never finds it.
alter table entity_version add column lost boolean not null default false;
alter table reference_version add column lost boolean not null default false;

-- Where a version sits on the service's timeline when that is later than
-- its own timestamp: a write of a new epoch keeps the timestamp it was
-- written with (a value re-applied from a referrer's cached copy keeps the
-- copy's time) but holds only from the epoch's start. Null means
-- `updated_at`. Within the current branch versions are ordered by
-- (epoch, updated_at) and `valid_to` is the next one's position.
alter table entity_version add column valid_from timestamptz;

-- Sequence numbers are a service's own per epoch: a restored service may
-- count again from where its backup left off.
alter table ingested_event add column epoch integer not null default 0;
alter table ingested_event drop constraint ingested_event_pkey;
alter table ingested_event add primary key (service_id, epoch, seq);

-- Who closed a resolved finding: an operator, or Lockstep itself when the
-- inventory (or a restore) showed its condition gone, and when.
alter table finding
    add column resolved_by text constraint finding_resolved_by_check
        check (resolved_by in ('operator', 'inventory', 'restore')),
    add column verified_at timestamptz,
    -- An accepted or dismissed finding stays closed while its condition
    -- persists; when the condition clears this is set, and a condition
    -- that comes back later is a new finding.
    add column cleared_at timestamptz;

-- The restores and scans that met a finding's condition again after the
-- one that raised it (its own restore_id or scan_id).
create table finding_cause (
    target_service_id bigint not null,
    finding_id bigint not null,
    restore_id bigint,
    scan_id bigint,
    at timestamptz not null default now(),
    constraint finding_cause_origin_check check ((restore_id is null) <> (scan_id is null)),
    constraint finding_cause_finding_fkey foreign key (target_service_id, finding_id)
        references finding (target_service_id, finding_id) on delete cascade
);
create index finding_cause_finding_idx on finding_cause (finding_id);

-- Lockstep's own verification is in each finding's audit trail.
alter table finding_event drop constraint finding_event_action_check;
alter table finding_event add constraint finding_event_action_check check (action in
    ('claim', 'resolve', 'accept', 'dismiss', 'reopen', 'release', 'verify', 'clear'));

-- Resolving a finding from its source's side (a referrer's entity or
-- reference changed) reads the findings of that source key that are still
-- to be worked; only those are indexed.
create index finding_pending_source_idx on finding (source_service_id, source_key)
    where status in ('open', 'claimed') or (status in ('accepted', 'dismissed') and cleared_at is null);
