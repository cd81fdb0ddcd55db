-- Entity keys are opaque identifiers: byte order is the right order for
-- them, and the "C" collation compares them with memcmp and lets sorts use
-- abbreviated keys. Under the database's default (a libc locale such as
-- C.UTF-8) every comparison in the inventory's indexes and in a restore's
-- sorts went through strcoll. For ASCII keys the order is the same.
alter table entity_version alter column key type text collate "C";
alter table entity alter column key type text collate "C";
alter table reference_version
    alter column target_key type text collate "C",
    alter column source_key type text collate "C";
alter table finding
    alter column source_key type text collate "C",
    alter column target_key type text collate "C";

-- Every ingest paid for these indexes. The references a service holds are
-- read whole (a snapshot's difference, a restore's lost references, the
-- overview's recount) or by identity, which the primary key serves from the
-- target's side; the index on the source's keys, written in random order
-- (a snapshot arrives in target order), cost a snapshot more than the
-- table itself. An index on the source service alone is written in heap
-- order (deduplicated, it appends) and finds all of a service's references.
drop index reference_live_source_idx;
drop index reference_version_source_idx;
create index reference_version_source_idx on reference_version (source_service_id);
