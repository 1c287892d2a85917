-- Access: users with roles, login sessions, wall tokens, and the audit log of
-- every login and action (append-only, like the event log).

CREATE TABLE users (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    role           text NOT NULL
                   CHECK (role IN ('wall', 'dispatcher', 'commander', 'reviewer', 'admin')),
    password_hash  text NOT NULL,           -- argon2id
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled       boolean NOT NULL DEFAULT false
);

-- Only a hash of the session token is stored: a stolen table logs nobody in.
CREATE TABLE sessions (
    token_sha256   text PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE wall_tokens (
    token_sha256   text PRIMARY KEY,
    label          text NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);

CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    ok      boolean NOT NULL,
    ip      text,
    detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
