-- The first row of events's hash chain that does not fit, or none: its
-- chain_seq is not the previous row's plus one (a row missing or out of the
-- chain), or its stored hash is not sha256(previous row's stored hash || its
-- content) (the row, or the previous row's hash, was changed).
WITH links AS (
    SELECT e.chain_seq, e.id, e.chain_hash,
           sha256(coalesce(lag(e.chain_hash) OVER w, log_chain_genesis())
                  || events_chain_content(e)) AS expected_hash,
           coalesce(lag(e.chain_seq) OVER w, 0) + 1 AS expected_seq
    FROM events e
    WINDOW w AS (ORDER BY e.chain_seq, e.id)
)
SELECT chain_seq, id, chain_hash, expected_hash, expected_seq
FROM links
WHERE chain_seq IS DISTINCT FROM expected_seq OR chain_hash IS DISTINCT FROM expected_hash
ORDER BY chain_seq, id
LIMIT 1
