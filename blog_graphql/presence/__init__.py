"""Presence on a post's thread: who reads it now and who is typing, on every instance."""
