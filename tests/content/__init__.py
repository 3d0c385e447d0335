"""Posts, tags and comments."""
