"""Posts and tags."""
