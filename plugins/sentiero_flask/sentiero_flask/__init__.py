"""sentiero-flask."""
