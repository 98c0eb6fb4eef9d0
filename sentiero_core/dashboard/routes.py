"""Routes (filled in by the dashboard work)."""
