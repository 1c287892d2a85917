INSERT INTO orders (id, incident_id, unit_id, sent_at, sent_by, eta_s, route_distance_m,
                    suggested_rank)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
