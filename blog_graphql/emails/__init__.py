"""Emails: the transactional outbox, templates and the sending actor."""
