SELECT u.id, u.call_sign, u.kind, u.home_beat,
       (SELECT d.id FROM devices d WHERE d.unit_id = u.id AND d.kind = 'gps' ORDER BY d.id LIMIT 1) AS gps_device,
       (SELECT d.format FROM devices d WHERE d.unit_id = u.id AND d.kind = 'gps' ORDER BY d.id LIMIT 1) AS gps_format,
       (SELECT d.id FROM devices d WHERE d.unit_id = u.id AND d.kind = 'radio' ORDER BY d.id LIMIT 1) AS radio_device,
       (SELECT d.id FROM devices d WHERE d.unit_id = u.id AND d.kind = 'phone' ORDER BY d.id LIMIT 1) AS phone_device,
       ST_AsText(b.geom) AS beat_wkt
FROM units u LEFT JOIN beats b ON b.id = u.home_beat
ORDER BY u.id
