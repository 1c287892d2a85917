SELECT device_id, fix_at, ST_X(geom), ST_Y(geom) FROM device_latest WHERE device_id = ANY(%s)
