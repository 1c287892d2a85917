-- Scoped to the current transaction: a retention run gives up rather than queue.
SELECT set_config('lock_timeout', %s, true)
