"""Accounts: users, sessions, one-time tokens and the login lockout."""
