-- JT/T 808 terminals the roster ties to a unit: (device id, unit id).
SELECT id, unit_id FROM devices WHERE format = 'jt808' AND unit_id IS NOT NULL
