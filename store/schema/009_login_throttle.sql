-- Failed sign-ins, counted per account and per address in the database (not
-- in a worker's memory) so that every server process sees the same back-off.
-- A key is 'name:<keyed hash of the name typed>' or 'ip:<address>': the name
-- is hashed because a password typed into the name field must not be stored.
CREATE TABLE login_throttle (
    key              text PRIMARY KEY,
    failures         integer NOT NULL,
    last_failure_at  timestamptz NOT NULL,
    blocked_until    timestamptz
);
CREATE INDEX login_throttle_last_idx ON login_throttle (last_failure_at);

-- The key of the keyed hash (HMAC-SHA-256) that masks names nobody has: one
-- row, drawn here from PostgreSQL's strong random source (gen_random_uuid
-- gives 122 random bits; two of them are joined). The audit log alone cannot
-- be searched offline for the passwords typed as names.
CREATE TABLE name_mask_key (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    key  bytea NOT NULL
);
INSERT INTO name_mask_key (key)
SELECT decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex');
