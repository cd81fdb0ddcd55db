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

-- Every ingest paid for this index; its one reader, the per-relation count
-- of live references, now starts from the source service and is served by
-- reference_version_source_idx.
drop index reference_live_source_idx;
