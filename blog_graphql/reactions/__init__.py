"""Reactions (LIKE, CLAP, INSIGHTFUL) on posts and comments."""
