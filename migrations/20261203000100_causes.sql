-- Causes (spec §8): the findings of one restore or scan grouped by kind,
-- relation, the two services and the strategy suggested when they were
-- raised, so that an operator decides a cause rather than its rows.
--
-- A finding belongs to the cause of the restore or scan that raised it
-- (`finding.cause_id`, set when it is written), and keeps it whatever
-- strategy an operator later resolves it with. Each cause carries its
-- findings' counts per bucket — a status, with the resolutions Lockstep
-- made itself counted apart as `verified` — kept by the statements that
-- change a finding's status, in the same statement (`causes::tally`): the
-- causes of a restore with a million findings are then a handful of rows
-- to read, not a million to count.

create function finding_bucket(status text, resolved_by text) returns text
    language sql immutable parallel safe
    return case when status = 'resolved' and resolved_by in ('inventory', 'restore')
                then 'verified' else status end;

create table cause (
    target_service_id bigint not null references service on delete cascade,
    cause_id bigint generated always as identity,
    restore_id bigint,
    scan_id bigint references scan on delete cascade,
    kind text not null,
    relation_id bigint references relation on delete set null,
    source_service_id bigint not null references service on delete cascade,
    strategy text not null,
    open integer not null default 0,
    claimed integer not null default 0,
    resolved integer not null default 0,
    verified integer not null default 0,
    accepted integer not null default 0,
    dismissed integer not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (target_service_id, cause_id),
    constraint cause_origin_check check ((restore_id is null) <> (scan_id is null))
);
create index cause_id_idx on cause (cause_id);
create index cause_restore_idx on cause (restore_id) where restore_id is not null;
create index cause_scan_idx on cause (scan_id) where scan_id is not null;

alter table finding add column cause_id bigint;

-- The findings already in the queue, each under the cause of what raised it.
insert into cause (target_service_id, restore_id, scan_id, kind, relation_id, source_service_id,
                   strategy, created_at)
select target_service_id, restore_id, scan_id, kind, relation_id, source_service_id,
       strategy, min(created_at)
from finding
group by target_service_id, restore_id, scan_id, kind, relation_id, source_service_id, strategy;

update finding f set cause_id = c.cause_id
from cause c
where c.target_service_id = f.target_service_id and c.source_service_id = f.source_service_id
  and c.kind = f.kind and c.strategy = f.strategy
  and c.restore_id is not distinct from f.restore_id and c.scan_id is not distinct from f.scan_id
  and c.relation_id is not distinct from f.relation_id;

-- Every cause's counts from its findings: for the findings already here,
-- and for anything that writes findings in bulk outside the application
-- (the benchmarks' fixtures).
create function recount_causes() returns void language sql as $$
update cause c set open = n.open, claimed = n.claimed, resolved = n.resolved,
                   verified = n.verified, accepted = n.accepted, dismissed = n.dismissed
from (select cause_id,
             count(*) filter (where finding_bucket(status, resolved_by) = 'open') as open,
             count(*) filter (where finding_bucket(status, resolved_by) = 'claimed') as claimed,
             count(*) filter (where finding_bucket(status, resolved_by) = 'resolved') as resolved,
             count(*) filter (where finding_bucket(status, resolved_by) = 'verified') as verified,
             count(*) filter (where finding_bucket(status, resolved_by) = 'accepted') as accepted,
             count(*) filter (where finding_bucket(status, resolved_by) = 'dismissed') as dismissed
      from finding group by cause_id) n
where c.cause_id = n.cause_id
  and (c.open, c.claimed, c.resolved, c.verified, c.accepted, c.dismissed)
      is distinct from (n.open, n.claimed, n.resolved, n.verified, n.accepted, n.dismissed);
$$;
select recount_causes();

alter table finding alter column cause_id set not null;
alter table finding add constraint finding_cause_fkey foreign key (target_service_id, cause_id)
    references cause (target_service_id, cause_id) on delete cascade;
-- A cause's rows, a page at a time.
create index finding_cause_id_idx on finding (cause_id, finding_id);
