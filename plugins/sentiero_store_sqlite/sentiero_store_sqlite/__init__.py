"""sentiero-store_sqlite."""
