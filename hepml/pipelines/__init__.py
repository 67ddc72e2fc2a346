"""Top-level functions: the only code that reads whole configs and instantiates objects."""
