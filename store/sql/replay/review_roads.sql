-- Road edges meeting a box, as WGS84 coordinate lists, for a report's map.
SELECT car, ST_AsGeoJSON(geom, 6)::json -> 'coordinates' AS coordinates
FROM road_edges
WHERE geom && ST_MakeEnvelope(%(min_lon)s, %(min_lat)s, %(max_lon)s, %(max_lat)s, 4326)
ORDER BY car, id
