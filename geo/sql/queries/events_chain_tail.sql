-- events's chain head (as the trigger left it) beside the log's last row and
-- its row count, in one snapshot.
SELECT h.seq AS head_seq, h.hash AS head_hash, t.chain_seq AS last_seq,
       t.chain_hash AS last_hash, (SELECT count(*) FROM events) AS rows
FROM log_chain_heads h
LEFT JOIN LATERAL (
    SELECT chain_seq, chain_hash FROM events WHERE chain_seq IS NOT NULL
    ORDER BY chain_seq DESC LIMIT 1
) t ON true
WHERE h.log = 'events'
