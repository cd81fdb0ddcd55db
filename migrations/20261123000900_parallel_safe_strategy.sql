-- suggested_strategy is immutable SQL with no side effects. Left at the
-- default PARALLEL UNSAFE, any statement calling it — a restore's
-- detection — was planned without parallel workers.
alter function suggested_strategy(text, text, boolean, boolean, boolean) parallel safe;
