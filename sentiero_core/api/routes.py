"""Routes (filled in by the api work)."""
