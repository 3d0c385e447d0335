"""Bookmarks: a private reading list of posts."""
