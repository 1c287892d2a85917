"""dispatchmap: wiring of feeds (ingest), geo (PostGIS) and dashboard (Dash)."""
