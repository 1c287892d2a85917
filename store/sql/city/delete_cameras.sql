DELETE FROM cameras
