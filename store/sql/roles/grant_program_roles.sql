-- What each program may do in this database, re-applied whole on every
-- `dispatchmap db upgrade` (after the migrations): all is revoked, then the
-- rights each program's queries need are granted. A new table a program uses
-- is added here. No program gets UPDATE, DELETE or TRUNCATE on the logs
-- (events, audit_log), nor owns anything: DDL and trigger changes stay the
-- owner's. Retention (dropping day partitions) is an owner command.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM dm_ingest, dm_dispatcher, dm_dashboard;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM dm_ingest, dm_dispatcher, dm_dashboard;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO dm_ingest, dm_dispatcher, dm_dashboard;

-- The logs, for every program.
GRANT SELECT, INSERT ON events, audit_log TO dm_ingest, dm_dispatcher, dm_dashboard;
GRANT USAGE ON SEQUENCE events_id_seq, audit_log_id_seq
    TO dm_ingest, dm_dispatcher, dm_dashboard;

-- Ingest (feeds/writer.py): positions history and latest state, unknown
-- devices, device events, the quarantine; the city's extent at start.
GRANT SELECT ON units, devices, road_edges TO dm_ingest;
GRANT SELECT, INSERT ON positions, devices, device_events, quarantine, position_raw_coords
    TO dm_ingest;
GRANT SELECT, INSERT, UPDATE ON device_latest, unit_latest TO dm_ingest;
GRANT USAGE ON SEQUENCE device_events_id_seq, quarantine_id_seq TO dm_ingest;
GRANT EXECUTE ON FUNCTION ensure_position_partitions(date, date) TO dm_ingest;

-- Dispatcher (feeds/dispatcher.py, geo/incidents.py, geo/alarms.py): 110
-- intake, orders, unit status, alarms, the quarantine of bad messages.
GRANT SELECT ON road_nodes, road_edges, stations, beats, cameras, units, devices,
    positions, device_latest, unit_latest, incident_types, incident_clock, dispositions
    TO dm_dispatcher;
GRANT SELECT, INSERT, UPDATE ON incidents, orders, alarms TO dm_dispatcher;
GRANT UPDATE (status, status_since, status_reason) ON units TO dm_dispatcher;
GRANT INSERT ON quarantine TO dm_dispatcher;
GRANT USAGE ON SEQUENCE incidents_id_seq, alarms_id_seq, quarantine_id_seq TO dm_dispatcher;

-- Dashboard (dashboard/*, geo/*): reads everything it shows; the desk's
-- incidents, orders, unit status and alarms; users, sessions, wall tokens.
GRANT SELECT ON road_nodes, road_edges, stations, beats, cameras, units, devices,
    positions, device_latest, unit_latest, quarantine, device_events, incident_types,
    incident_clock, water_areas, buildings, dispositions, position_raw_coords
    TO dm_dashboard;
GRANT SELECT, INSERT, UPDATE ON incidents, orders, alarms, users, sessions, wall_tokens
    TO dm_dashboard;
GRANT UPDATE (status, status_since, status_reason) ON units TO dm_dashboard;
GRANT USAGE ON SEQUENCE incidents_id_seq, alarms_id_seq, users_id_seq, wall_tokens_id_seq
    TO dm_dashboard;

-- What the desk (and the CLI) showed: suggestion sets (geo/shown_sets.py).
GRANT SELECT, INSERT ON shown_sets TO dm_dashboard;
GRANT USAGE ON SEQUENCE shown_sets_id_seq TO dm_dashboard;

-- Failed sign-ins counted per account and address, and the key that masks
-- unknown names (geo/throttle.py): the dashboard's sign-in only.
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO dm_dashboard;
GRANT SELECT ON name_mask_key TO dm_dashboard;

-- Camera health (dispatchmap camera-health runs as the dispatcher's role: it
-- raises and clears the cameras' alarms); the maps and the quality page read it.
GRANT SELECT, INSERT, UPDATE ON camera_health TO dm_dispatcher;
GRANT SELECT ON camera_health TO dm_dashboard
