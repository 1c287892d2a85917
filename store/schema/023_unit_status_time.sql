-- When a unit's status last changed, and why when a person set it by hand
-- (busy with what, out of service why): the desk shows the time in status,
-- and a unit busy too long raises a welfare alarm.
ALTER TABLE units
    ADD COLUMN status_since timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN status_reason text CHECK (length(status_reason) <= 200);
