-- The integrity scan, incremental (issue "Speed", SPEC §5 last row): a pass
-- looks only at the entities whose dangling-delete condition may have
-- changed since the last pass, so its cost grows with the deletes since
-- then, not with the inventory (18 s a pass at 10M references before).
--
-- A dangling delete is a live reference to a deleted entity that no pending
-- finding names. It can appear only when
--   1. an entity becomes deleted (a write, or a restore's rollback),
--   2. a deleted entity gains a live reference (its counter rises; the
--      writers mark references of a service into itself, which the
--      counter leaves out, themselves),
--   3. a finding that named such a reference stops being pending.
-- The triggers below note the entity each time; the scan takes the notes.
-- A full pass (`POST /api/v1/scans?full=true`, and the background loop now
-- and then) still reads everything and clears the notes.
create table scan_mark (
    service_id bigint not null,
    key text collate "C" not null,
    primary key (service_id, key)
);

-- Everything deleted so far is worth one look by the first pass.
insert into scan_mark (service_id, key)
select service_id, key from entity where deleted;

create function mark_for_scan() returns trigger language plpgsql as $$
begin
    insert into scan_mark (service_id, key)
    values (new.service_id, new.key)
    on conflict do nothing;
    return null;
end $$;

-- A WHEN clause costs a writer nothing when it is false: no call is queued.
create trigger entity_deleted_mark after insert on entity
    for each row when (new.deleted)
    execute function mark_for_scan();
create trigger entity_deleted_mark_update after update on entity
    for each row when (new.deleted and (not old.deleted or new.dependents > old.dependents))
    execute function mark_for_scan();

create function mark_finding_target_for_scan() returns trigger language plpgsql as $$
begin
    insert into scan_mark (service_id, key)
    values (new.target_service_id, new.target_key)
    on conflict do nothing;
    return null;
end $$;

create trigger finding_no_longer_pending_mark after update on finding
    for each row when (
        new.kind in ('dangling_delete', 'broken_link', 'missing_state')
        and (old.status in ('open', 'claimed')
             or (old.status in ('accepted', 'dismissed') and old.cleared_at is null))
        and not (new.status in ('open', 'claimed')
                 or (new.status in ('accepted', 'dismissed') and new.cleared_at is null)))
    execute function mark_finding_target_for_scan();

alter table scan add column full_pass boolean not null default true;
