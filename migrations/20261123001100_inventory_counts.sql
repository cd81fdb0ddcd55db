-- The inventory overview's counts, kept instead of counted at every view
-- (counting the live references of 10M took 11.6 s per view).
--
-- Every write to a service's inventory bumps its `changes` (one row, in the
-- writer's transaction, which holds the service anyway). A read recounts
-- the services whose counts are older than their changes — one scan of
-- that service's own entities and references — and every later read is a
-- lookup. A writer that commits while a recount runs leaves `counted`
-- behind `changes`, so the next read counts again: nothing is missed.
create table service_count (
    service_id bigint primary key references service on delete cascade,
    changes bigint not null default 0,
    -- The `changes` the counts below are as of.
    counted bigint not null default -1,
    -- Live (not deleted) entities.
    entities bigint not null default 0,
    last_event timestamptz
);

-- Live references per relation; a service's outgoing and incoming counts
-- are sums over the relations from and into it.
create table relation_count (
    relation_id bigint primary key references relation on delete cascade,
    live bigint not null default 0
);

-- Inventories already loaded are counted at the first read.
insert into service_count (service_id, changes, last_event)
select s.service_id, 1,
       greatest((select max(v.recorded_at) from entity_version v where v.service_id = s.service_id),
                (select max(r.recorded_at) from reference_version r where r.source_service_id = s.service_id))
from service s
where exists (select 1 from entity_version v where v.service_id = s.service_id);
