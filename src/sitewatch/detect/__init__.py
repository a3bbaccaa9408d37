"""Change detection as pure functions of arrays plus metadata (no catalog, no files)."""
