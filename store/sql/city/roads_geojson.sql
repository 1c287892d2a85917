SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(geom, 6)::json,
        'properties', json_build_object('highway', highway, 'name', name, 'car', car)
    ) ORDER BY car, length_m DESC), '[]'::json))
FROM road_edges
