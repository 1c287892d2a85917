TRUNCATE water_areas, buildings RESTART IDENTITY
