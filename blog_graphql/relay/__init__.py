"""Relay plumbing every domain shares: global ids, the `Node` interface, cursor connections."""
