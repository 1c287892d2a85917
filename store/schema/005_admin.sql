-- The admin page: a wall token gets a short id to be revoked by (its hash
-- stays the key and is never shown) and the time it was last used; the audit
-- log is filtered by user or action, newest first.

ALTER TABLE wall_tokens ADD COLUMN id bigserial UNIQUE;
ALTER TABLE wall_tokens ADD COLUMN last_used_at timestamptz;

CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
