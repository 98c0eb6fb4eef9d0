"""sentiero-store_mongo."""
