-- A collector's watermarks are opaque to Lockstep and read back as sent.
-- As jsonb, a number was stored as a decimal and printed back in full:
-- 1.7976931348623157e308 came back as 309 digits that no JSON reader takes
-- as a double (schemathesis found `GET …/collector` failing on it). As
-- json, the text is kept as the collector wrote it.
alter table collector_status alter column watermarks drop default;
alter table collector_status alter column watermarks type json using watermarks::json;
alter table collector_status alter column watermarks set default '{}';
