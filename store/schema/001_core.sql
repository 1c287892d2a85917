-- Core schema: the city (roads, station, beats, cameras), the roster (units and
-- their devices), positions history (partitioned by day), the latest state per
-- device and per unit, and the quarantine of messages that were refused.
-- All geometry is SRID 4326 (WGS84 lon/lat) with GiST indexes.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pgrouting;

CREATE TABLE road_nodes (
    id      bigint PRIMARY KEY,
    geom    geometry(Point, 4326) NOT NULL
);
CREATE INDEX road_nodes_geom_idx ON road_nodes USING gist (geom);

-- One row per directed-or-not edge between two graph nodes, pgRouting style:
-- cost_s / reverse_cost_s are travel times in seconds by car, negative where
-- a car may not go that way (one-way street, footway).
CREATE TABLE road_edges (
    id              bigserial PRIMARY KEY,
    osm_id          bigint NOT NULL,
    source          bigint NOT NULL REFERENCES road_nodes (id),
    target          bigint NOT NULL REFERENCES road_nodes (id),
    highway         text NOT NULL,
    name            text,
    oneway          boolean NOT NULL DEFAULT false,
    car             boolean NOT NULL,
    foot            boolean NOT NULL,
    length_m        double precision NOT NULL CHECK (length_m >= 0),
    speed_kmh       double precision NOT NULL CHECK (speed_kmh > 0),
    cost_s          double precision NOT NULL,
    reverse_cost_s  double precision NOT NULL,
    geom            geometry(LineString, 4326) NOT NULL
);
CREATE INDEX road_edges_geom_idx ON road_edges USING gist (geom);
CREATE INDEX road_edges_source_idx ON road_edges (source);
CREATE INDEX road_edges_target_idx ON road_edges (target);

CREATE TABLE stations (
    id      text PRIMARY KEY,
    name    text NOT NULL,
    phone   text,
    geom    geometry(Point, 4326) NOT NULL
);

CREATE TABLE beats (
    id      text PRIMARY KEY,
    name    text NOT NULL,
    geom    geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX beats_geom_idx ON beats USING gist (geom);

CREATE TABLE cameras (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    bearing_deg  double precision NOT NULL CHECK (bearing_deg >= 0 AND bearing_deg < 360),
    fov_deg      double precision NOT NULL CHECK (fov_deg > 0 AND fov_deg <= 360),
    range_m      double precision NOT NULL CHECK (range_m > 0),
    stream_url   text NOT NULL,
    geom         geometry(Point, 4326) NOT NULL
);
CREATE INDEX cameras_geom_idx ON cameras USING gist (geom);

CREATE TABLE units (
    id           text PRIMARY KEY,
    call_sign    text NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('car', 'motorbike', 'foot')),
    home_beat    text REFERENCES beats (id),
    talkgroup    text,
    phone        text,
    radio_issi   text,
    status       text NOT NULL DEFAULT 'available'
);

-- A device is tied to at most one unit; a device the roster does not know
-- gets a row with unit_id NULL the first time it speaks, so it is never lost.
CREATE TABLE devices (
    id          text PRIMARY KEY,
    unit_id     text REFERENCES units (id),
    kind        text NOT NULL CHECK (kind IN ('gps', 'radio', 'phone', 'unknown')),
    format      text NOT NULL CHECK (format IN ('native', 'nmea', 'lip', 'status', 'owntracks', 'unknown')),
    first_seen_at timestamptz
);
CREATE INDEX devices_unit_idx ON devices (unit_id);

-- Positions history, append-only, one partition per UTC day so retention drops
-- whole partitions. Unique per device and fix time: a redelivered message is
-- stored once.
CREATE TABLE positions (
    device_id    text NOT NULL,
    unit_id      text,
    fix_at       timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    geom         geometry(Point, 4326) NOT NULL,
    speed_kmh    real,
    heading_deg  real,
    acc_m        real,
    alt_m        real,
    source       text NOT NULL,
    PRIMARY KEY (device_id, fix_at)
) PARTITION BY RANGE (fix_at);
CREATE INDEX positions_unit_time_idx ON positions (unit_id, fix_at);
CREATE INDEX positions_geom_idx ON positions USING gist (geom);
CREATE INDEX positions_fix_at_idx ON positions USING brin (fix_at);

-- Creates the day partitions covering [from_day, to_day] if they are missing.
CREATE FUNCTION ensure_position_partitions(from_day date, to_day date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    day date := from_day;
    made integer := 0;
    part text;
BEGIN
    WHILE day <= to_day LOOP
        part := format('positions_%s', to_char(day, 'YYYYMMDD'));
        IF to_regclass(part) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
                part, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
            made := made + 1;
        END IF;
        day := day + 1;
    END LOOP;
    RETURN made;
END $$;

-- Latest fix per device (including devices not on the roster) and per unit.
-- Upserts only move forward in fix time: a late fix never drags a marker back.
CREATE TABLE device_latest (
    device_id    text PRIMARY KEY,
    unit_id      text,
    fix_at       timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    geom         geometry(Point, 4326) NOT NULL,
    speed_kmh    real,
    heading_deg  real,
    acc_m        real,
    source       text NOT NULL
);
CREATE INDEX device_latest_geom_idx ON device_latest USING gist (geom);

CREATE TABLE unit_latest (
    unit_id      text PRIMARY KEY REFERENCES units (id),
    device_id    text NOT NULL,
    fix_at       timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    geom         geometry(Point, 4326) NOT NULL,
    speed_kmh    real,
    heading_deg  real,
    acc_m        real,
    source       text NOT NULL
);
CREATE INDEX unit_latest_geom_idx ON unit_latest USING gist (geom);
CREATE INDEX unit_latest_fix_at_idx ON unit_latest (fix_at);

-- Messages that were refused, kept whole with the reason.
CREATE TABLE quarantine (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    topic        text NOT NULL,
    device_id    text,
    payload      bytea NOT NULL,
    reason       text NOT NULL,
    detail       text
);
CREATE INDEX quarantine_received_idx ON quarantine (received_at);
CREATE INDEX quarantine_device_idx ON quarantine (device_id, received_at);

-- Non-position messages worth keeping: terminal status reports, OwnTracks events.
CREATE TABLE device_events (
    id           bigserial PRIMARY KEY,
    device_id    text NOT NULL,
    unit_id      text,
    kind         text NOT NULL,
    reported_at  timestamptz,
    received_at  timestamptz NOT NULL,
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX device_events_device_idx ON device_events (device_id, received_at);
