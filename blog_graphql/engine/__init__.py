"""The GraphQL engine: a faster executor behind Strawberry, and the helpers resolvers use.

This module is the engine's public face for the domains: the batching helpers a type's
fields are written with, the mark of a resolver whose answer is the same for every
viewer, and what the live hub and the WebSocket transport learn of shared events.
Everything else in the folder is the engine's own (import-linter keeps the domains out of
it); `docs/architecture.md` explains the design and how to switch it off
(`build_schema(fast_execution=False)`).
"""

from blog_graphql.engine.batching import batched, one, preloaded_or_loaded
from blog_graphql.engine.shared_events import SharedData, SharedWork, delivering, shared_payload
from blog_graphql.engine.viewer_fields import same_for_every_viewer

__all__ = [
    "SharedData",
    "SharedWork",
    "batched",
    "delivering",
    "one",
    "preloaded_or_loaded",
    "same_for_every_viewer",
    "shared_payload",
]
