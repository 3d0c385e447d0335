"""Notifications: what happened that concerns a user, in the app, live, and by email."""
