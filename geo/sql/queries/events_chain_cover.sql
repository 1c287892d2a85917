-- For an incident's report: the chain seq of its last event, and the event
-- log's last row (seq and hash), which covers it (NULLs when there is none).
SELECT (SELECT max(chain_seq) FROM events WHERE incident_id = %s) AS incident_seq,
       t.chain_seq AS head_seq, t.chain_hash AS head_hash
FROM (SELECT 1) one
LEFT JOIN LATERAL (
    SELECT chain_seq, chain_hash FROM events WHERE chain_seq IS NOT NULL
    ORDER BY chain_seq DESC LIMIT 1
) t ON true
