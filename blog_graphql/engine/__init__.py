"""The GraphQL engine: a faster executor behind Strawberry, and the helpers resolvers use.

This module is the engine's public face for the domains: the batching helpers a type's
fields are written with. Everything else in the folder is the engine's own (import-linter
keeps the domains out of it); `docs/architecture.md` explains the design and how to switch
it off (`build_schema(fast_execution=False)`).
"""

from blog_graphql.engine.batching import batched, one, preloaded_or_loaded

__all__ = ["batched", "one", "preloaded_or_loaded"]
