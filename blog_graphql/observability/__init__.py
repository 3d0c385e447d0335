"""Logs, metrics, traces and redaction; `wiring` plugs them into the app and the database."""
