-- GCJ-02 devices: a device (the roster's gps_coords column) may report the
-- offset coordinates of Chinese map SDKs. Its fixes are stored converted to
-- WGS84 in positions; the values as the device sent them are kept here, one
-- row per converted fix (most devices never have any).
ALTER TABLE devices ADD COLUMN coords text NOT NULL DEFAULT 'wgs84'
    CHECK (coords IN ('wgs84', 'gcj02'));

CREATE TABLE position_raw_coords (
    device_id  text NOT NULL,
    fix_at     timestamptz NOT NULL,
    coords     text NOT NULL CHECK (coords IN ('gcj02')),
    raw_lon    double precision NOT NULL,
    raw_lat    double precision NOT NULL,
    PRIMARY KEY (device_id, fix_at)
);
