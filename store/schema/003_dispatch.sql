-- Dispatch: incident types, incidents, orders to units, alarms, and the
-- append-only event log every change goes through (replay plays it back).

CREATE TABLE incident_types (
    id                text PRIMARY KEY,
    name_en           text NOT NULL,
    name_zh           text NOT NULL,
    default_priority  smallint NOT NULL CHECK (default_priority BETWEEN 1 AND 4),
    unit_kinds        text[] NOT NULL  -- kinds that may be sent; empty = any kind
);

INSERT INTO incident_types (id, name_en, name_zh, default_priority, unit_kinds) VALUES
    ('traffic_accident', 'Traffic accident', '交通事故', 2, '{car,motorbike}'),
    ('theft_in_progress', 'Theft in progress', '正在盗窃', 1, '{car,motorbike,foot}'),
    ('assault', 'Assault', '殴打', 1, '{car,motorbike,foot}'),
    ('disturbance', 'Disturbance', '扰乱秩序', 3, '{car,motorbike,foot}'),
    ('missing_person', 'Missing person', '人员走失', 2, '{car,foot}'),
    ('fire_assist', 'Fire assist', '协助消防', 2, '{car}'),
    ('other', 'Other', '其他', 4, '{}');

CREATE TABLE incidents (
    id            bigserial PRIMARY KEY,
    external_id   text UNIQUE,            -- the 110 call-taking system's id
    type          text NOT NULL REFERENCES incident_types (id),
    priority      smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
    status        text NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'dispatched', 'onscene', 'cleared', 'closed')),
    reported_at   timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    source        text NOT NULL CHECK (source IN ('110', 'desk')),
    notes         text NOT NULL DEFAULT '',
    geom          geometry(Point, 4326) NOT NULL
);
CREATE INDEX incidents_geom_idx ON incidents USING gist (geom);
CREATE INDEX incidents_open_idx ON incidents (status) WHERE status <> 'closed';

-- One order per unit sent to an incident. ``state`` follows the unit's chain
-- while the order is live; every change is also an event.
CREATE TABLE orders (
    id                text PRIMARY KEY,
    incident_id       bigint NOT NULL REFERENCES incidents (id),
    unit_id           text NOT NULL REFERENCES units (id),
    state             text NOT NULL DEFAULT 'sent'
                      CHECK (state IN ('sent', 'acknowledged', 'enroute', 'onscene', 'cleared',
                                       'cancelled')),
    sent_at           timestamptz NOT NULL,
    sent_by           text NOT NULL,
    eta_s             real,
    route_distance_m  real,
    suggested_rank    smallint,         -- 1 = first suggestion; NULL = dispatcher's override
    -- Outbox: the dispatcher worker publishes orders committed here and stamps
    -- them, so an order reaches its terminal even if the desk dies after commit.
    published_at      timestamptz
);
CREATE INDEX orders_unpublished_idx ON orders (sent_at) WHERE published_at IS NULL;
CREATE INDEX orders_incident_idx ON orders (incident_id);
CREATE UNIQUE INDEX orders_live_unit_idx ON orders (unit_id)
    WHERE state IN ('sent', 'acknowledged', 'enroute', 'onscene');

-- The event log: append-only, enforced below.
CREATE TABLE events (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL,
    kind         text NOT NULL,
    actor        text NOT NULL,             -- a user, 'unit:<id>', 'system', '110'
    incident_id  bigint REFERENCES incidents (id),
    unit_id      text REFERENCES units (id),
    order_id     text REFERENCES orders (id),
    geom         geometry(Point, 4326),
    data         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at_idx ON events (at);
CREATE INDEX events_incident_idx ON events (incident_id, at);
CREATE INDEX events_unit_idx ON events (unit_id, at);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TABLE alarms (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    severity     smallint NOT NULL CHECK (severity BETWEEN 1 AND 3),  -- 1 = highest
    incident_id  bigint REFERENCES incidents (id),
    unit_id      text REFERENCES units (id),
    order_id     text REFERENCES orders (id),
    raised_at    timestamptz NOT NULL,
    cleared_at   timestamptz,
    detail       text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alarms_open_idx ON alarms (kind, coalesce(incident_id, 0),
    coalesce(unit_id, ''), coalesce(order_id, '')) WHERE cleared_at IS NULL;

-- The response clock of each incident, read off the event log.
CREATE VIEW incident_clock AS
SELECT i.id AS incident_id, i.priority, i.created_at,
       min(e.at) FILTER (WHERE e.kind = 'dispatched') AS first_dispatched_at,
       min(e.at) FILTER (WHERE e.kind = 'acknowledged') AS first_acknowledged_at,
       min(e.at) FILTER (WHERE e.kind = 'enroute') AS first_enroute_at,
       min(e.at) FILTER (WHERE e.kind = 'onscene') AS first_onscene_at,
       max(e.at) FILTER (WHERE e.kind = 'cleared') AS last_cleared_at,
       min(e.at) FILTER (WHERE e.kind = 'closed') AS closed_at
FROM incidents i LEFT JOIN events e ON e.incident_id = i.id
GROUP BY i.id;
