-- A service's first snapshot writes every reference through each index of
-- reference_version and bumps a counter on every entity it refers to; two
-- of those costs go.
--
-- The live-target index repeats the primary key's leading columns (target
-- service and key) for live rows only. Referrers, counter recounts and the
-- restore's detection find the same rows through the primary key (a few
-- closed versions more to filter), and loading 150,000 references without
-- it is 0.2 s faster.
drop index reference_live_target_idx;

-- Counters and current versions are updated in place all the time: with
-- half of each page free, those updates stay on the page (HOT) and skip the
-- primary key. Bumping 44,000 counters: 263 ms -> 117 ms.
alter table entity set (fillfactor = 50);
