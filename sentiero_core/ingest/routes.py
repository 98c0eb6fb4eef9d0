"""Routes (filled in by the ingest work)."""
