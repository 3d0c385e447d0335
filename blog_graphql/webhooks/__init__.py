"""Signed webhooks: admin-managed endpoints told of events, through an outbox."""
