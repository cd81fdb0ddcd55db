-- Keeps the schema distributable on Citus (deploy/citus.sql, DEPLOY.md): a
-- distributed table's primary and unique keys include its distribution
-- column, and a foreign key between distributed tables includes it on both
-- sides. Findings are distributed by target service, like the references
-- they are computed from, so a restore writes them on the shard group that
-- computed them; each finding's trail goes with it.

alter table finding_event add column target_service_id bigint;
update finding_event e set target_service_id = f.target_service_id
from finding f where f.finding_id = e.finding_id;
alter table finding_event alter column target_service_id set not null;

alter table finding_event
    drop constraint finding_event_finding_id_fkey,
    drop constraint finding_event_pkey;
alter table finding drop constraint finding_pkey;
alter table finding add constraint finding_pkey primary key (target_service_id, finding_id);
-- The queue reads and acts on findings by id alone. Ids stay unique by
-- their identity sequence; the index cannot be unique without the service.
create index finding_id_idx on finding (finding_id);

alter table finding_event
    add constraint finding_event_pkey primary key (target_service_id, finding_event_id),
    add constraint finding_event_finding_fkey foreign key (target_service_id, finding_id)
        references finding (target_service_id, finding_id) on delete cascade;
