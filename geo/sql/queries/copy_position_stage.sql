COPY position_stage (n, device_id, unit_id, fix_at, received_at, lon, lat, speed_kmh,
                     heading_deg, acc_m, alt_m, source) FROM STDIN (FORMAT BINARY)
