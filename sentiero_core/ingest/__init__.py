"""The ingest endpoint: ``POST <mount>/events`` and the path to the store."""
