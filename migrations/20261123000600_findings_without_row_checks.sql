-- A restore writes its findings in one statement, often a hundred thousand
-- of them: the five foreign-key checks per row (scan, relation, both
-- services, restore) cost more than the insert itself (3.8 s of 10.6 s for
-- 98,751 findings). The restore engine writes only ids it has just read in
-- the same transaction, so the checks go; what they gave on delete is kept
-- by the topology's delete triggers (a service takes its findings, its
-- restores and their findings with it; a deleted relation leaves its
-- findings without one). Like the inventory, the findings then carry no
-- foreign key to the topology (see the Citus notes of issue 7).

alter table finding
    drop constraint finding_scan_id_fkey,
    drop constraint finding_relation_id_fkey,
    drop constraint finding_source_service_id_fkey,
    drop constraint finding_target_service_id_fkey,
    drop constraint finding_restore_fk;

create or replace function delete_service_inventory() returns trigger language plpgsql as $$
begin
    delete from entity_version where service_id = old.service_id;
    delete from entity where service_id = old.service_id;
    -- Two statements, so each uses its index (target: the primary key's
    -- prefix; source: reference_version_source_idx).
    delete from reference_version where target_service_id = old.service_id;
    delete from reference_version where source_service_id = old.service_id;
    -- The same for findings (finding_target_service_idx, finding_source_idx).
    -- The service's restores go by their own cascade; their findings all
    -- have the service on one side.
    delete from finding where target_service_id = old.service_id;
    delete from finding where source_service_id = old.service_id;
    return old;
end
$$;

-- A finding outlives its relation (the evidence stays), without it. One
-- statement-level pass: findings have no index on the relation, and a
-- topology replace may delete many relations at once.
create function detach_relation_findings() returns trigger language plpgsql as $$
begin
    update finding set relation_id = null
    where relation_id in (select relation_id from gone);
    return null;
end
$$;
create trigger relation_findings_detach after delete on relation
    referencing old table as gone
    for each statement execute function detach_relation_findings();
