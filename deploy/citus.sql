-- Lockstep on Citus: run once on the coordinator after `lockstep migrate`,
-- with the citus extension created and the workers added (DEPLOY.md).
--
-- The inventory and the findings grow with the architecture; they are
-- distributed by service id and co-located (one colocation group: every
-- distribution column is a bigint service id), each by the service a
-- restore is computed for: references by their *target* service, entities
-- by their own, findings by their target. A restore's detection query then
-- joins references, entity versions and findings of one service on one
-- shard group. The topology and the other small tables are reference
-- tables (a copy on every node) or stay on the coordinator.
--
-- tests/it/distribution.rs reads this file and checks the migrated schema
-- against it: every table is placed, every primary and unique key of a
-- distributed table includes its distribution column, and no foreign key
-- crosses from a reference or local table into a distributed one or
-- between distributed tables without the distribution column.

-- Reference tables: small, read by every shard's joins.
select create_reference_table('service');
select create_reference_table('relation');
select create_reference_table('backup');
select create_reference_table('restore');
select create_reference_table('scan');
select create_reference_table('service_token');
select create_reference_table('service_count');
select create_reference_table('relation_count');
-- A row per service: what its collector last said, and its suspected restores.
select create_reference_table('collector_status');
select create_reference_table('suspected_restore');

-- Distributed, co-located by service id.
select create_distributed_table('entity', 'service_id');
select create_distributed_table('entity_version', 'service_id', colocate_with => 'entity');
select create_distributed_table('reference_version', 'target_service_id', colocate_with => 'entity');
select create_distributed_table('ingested_event', 'service_id', colocate_with => 'entity');
select create_distributed_table('scan_mark', 'service_id', colocate_with => 'entity');
-- Causes before the findings that refer to them.
select create_distributed_table('cause', 'target_service_id', colocate_with => 'entity');
select create_distributed_table('finding', 'target_service_id', colocate_with => 'entity');
select create_distributed_table('finding_event', 'target_service_id', colocate_with => 'entity');
select create_distributed_table('finding_cause', 'target_service_id', colocate_with => 'entity');
-- The exposure series: a row per service and measurement run.
select create_distributed_table('exposure', 'service_id', colocate_with => 'entity');

-- Coordinator-only: accounts, the audit log, sessions, migrations.
select citus_add_local_table_to_metadata('account');
select citus_add_local_table_to_metadata('audit_event');
select citus_add_local_table_to_metadata('tower_sessions.session');
select citus_add_local_table_to_metadata('_sqlx_migrations');
