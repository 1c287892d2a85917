-- JT/T 808 vehicle terminals: a device's format may be 'jt808' (device id
-- 'jt808-{phone}', tied to a unit by the roster's gps_device/gps_format).
ALTER TABLE devices DROP CONSTRAINT devices_format_check;
ALTER TABLE devices ADD CONSTRAINT devices_format_check
    CHECK (format IN ('native', 'nmea', 'lip', 'status', 'owntracks', 'jt808', 'unknown'));
