-- A new version of a reference or entity ends its predecessor: an update of
-- valid_to, a column no index holds. With room left on each page the
-- update stays there (HOT) and skips both indexes; with full pages every
-- ended version is a new tuple elsewhere and an entry in each index. A
-- snapshot re-observing a tenth of 150,000 references ended their
-- predecessors in 0.19 s instead of 0.53 s; the tables grow by a ninth.
alter table reference_version set (fillfactor = 90);
alter table entity_version set (fillfactor = 90);
