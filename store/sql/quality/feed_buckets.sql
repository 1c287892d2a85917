-- Messages per feed, reason (NULL = accepted) and time bucket over the window.
-- Bucket 0 is the newest: (now - bucket_s, now]. The feed is the topic's, not
-- the device's: a radio's status reports share its id with its LIP fixes. Only
-- the status and OwnTracks decoders make events; a quarantined message's feed
-- comes from its topic ({prefix}/{gps|nmea|lip|status}/{id}, or an OwnTracks
-- device id), NULL for a topic no feed reads.
WITH msgs AS (
    SELECT source AS format, received_at, NULL::text AS reason
    FROM positions
    WHERE received_at > %(since)s AND received_at <= %(now)s AND fix_at > %(fix_since)s
    UNION ALL
    SELECT CASE WHEN e.device_id LIKE 'owntracks/%%' THEN 'owntracks' ELSE 'status' END,
           e.received_at, NULL::text
    FROM device_events e
    WHERE e.received_at > %(since)s AND e.received_at <= %(now)s
    UNION ALL
    SELECT CASE WHEN q.device_id IS NULL THEN NULL
                WHEN q.device_id LIKE 'owntracks/%%' THEN 'owntracks'
                WHEN split_part(q.topic, '/', 2) = 'gps' THEN 'native'
                ELSE split_part(q.topic, '/', 2) END,
           q.received_at, q.reason
    FROM quarantine q
    WHERE q.received_at > %(since)s AND q.received_at <= %(now)s
)
SELECT format, reason,
       floor(extract(epoch FROM %(now)s::timestamptz - received_at) / %(bucket_s)s)::int AS bucket,
       count(*)::bigint AS n
FROM msgs
GROUP BY 1, 2, 3
ORDER BY 1, 3, 2
