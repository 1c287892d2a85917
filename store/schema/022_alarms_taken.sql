-- An alarm is taken by a person on the desk (who and when, also an
-- 'alarm_taken' event); it stays open, shown as taken on the wall's strip,
-- until its cause ends. An emergency sounds on the desk until taken.
ALTER TABLE alarms
    ADD COLUMN taken_at timestamptz,
    ADD COLUMN taken_by text CHECK (length(taken_by) <= 200);
