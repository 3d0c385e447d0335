"""Follows: a user follows other users (counts, followers, the following feed)."""
