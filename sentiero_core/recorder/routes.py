"""Routes (filled in by the recorder work)."""
