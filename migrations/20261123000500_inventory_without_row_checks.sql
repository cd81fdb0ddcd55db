-- The inventory tables are Lockstep's bulk (millions of rows): a foreign-key
-- check per inserted row cost a third of a snapshot's insert time. Ingest
-- validates services and relations itself before writing, so the checks go;
-- what they gave on delete — a service's or relation's inventory goes with
-- it — is kept by triggers on the small topology tables instead (one delete
-- per removed service or relation, not a check per inserted row). This also
-- leaves no foreign key between the distributed inventory tables and the
-- topology (see DEPLOY/Citus notes in issue 7).

alter table entity_version drop constraint entity_version_service_id_fkey;
alter table entity drop constraint entity_service_id_fkey;
alter table reference_version
    drop constraint reference_version_target_service_id_fkey,
    drop constraint reference_version_source_service_id_fkey,
    drop constraint reference_version_relation_id_fkey;

create function delete_service_inventory() returns trigger language plpgsql as $$
begin
    delete from entity_version where service_id = old.service_id;
    delete from entity where service_id = old.service_id;
    -- Two statements, so each uses its index (target: the primary key's
    -- prefix; source: reference_version_source_idx).
    delete from reference_version where target_service_id = old.service_id;
    delete from reference_version where source_service_id = old.service_id;
    return old;
end
$$;
create trigger service_inventory_delete after delete on service
    for each row execute function delete_service_inventory();

create function delete_relation_inventory() returns trigger language plpgsql as $$
begin
    delete from reference_version
    where source_service_id = old.from_service_id and relation_id = old.relation_id;
    return old;
end
$$;
create trigger relation_inventory_delete after delete on relation
    for each row execute function delete_relation_inventory();
