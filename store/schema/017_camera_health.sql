-- Camera health, checked in the background (dispatchmap camera-health): the
-- last verdict per camera and since when it holds. A camera going dark raises
-- a low alarm that names it, so alarms get a camera column and the one-open-
-- alarm-per-subject index counts it.
CREATE TABLE camera_health (
    camera_id   text PRIMARY KEY REFERENCES cameras (id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('online', 'no_signal', 'unreachable', 'unchecked')),
    detail      text NOT NULL DEFAULT '',
    checked_at  timestamptz NOT NULL,
    changed_at  timestamptz NOT NULL
);

ALTER TABLE alarms ADD COLUMN camera_id text REFERENCES cameras (id) ON DELETE SET NULL;
DROP INDEX alarms_open_idx;
CREATE UNIQUE INDEX alarms_open_idx ON alarms (kind, coalesce(incident_id, 0),
    coalesce(unit_id, ''), coalesce(order_id, ''), coalesce(camera_id, ''))
    WHERE cleared_at IS NULL;
