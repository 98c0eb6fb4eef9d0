"""Features of the core, registered as plugins like any other."""
