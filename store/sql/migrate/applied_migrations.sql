SELECT version, sha256 FROM schema_migrations
