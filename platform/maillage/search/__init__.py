"""French full-text search over initiatives, on PostgreSQL (tsvector) and SQLite (FTS5)."""
