DELETE FROM stations
