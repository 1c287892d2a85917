-- How far a hot standby is behind its primary, in seconds: 0 when it has
-- replayed all it received (an idle primary sends nothing, and the last
-- replayed transaction's age then says nothing), else the age of the last
-- transaction it replayed. NULL on a server that is not a standby.
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0.0)
END::float8
