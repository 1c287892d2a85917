-- Water areas for drawing: coordinates to 6 decimals (0.1 m), the largest
-- first so a small pond is drawn over the lake that holds it.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(geom, 6)::json,
        'properties', json_build_object('kind', kind, 'name', name)
    ) ORDER BY ST_Area(geom) DESC), '[]'::json))
FROM water_areas
