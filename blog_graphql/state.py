"""What one running app holds for its whole life: settings and shared connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from blog_graphql.accounts.lockout import LoginLockout, create_lockout
from blog_graphql.comments.cursors import EventCursors
from blog_graphql.comments.live import CommentFeed
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.guards.ratelimit import RateLimiter
from blog_graphql.live.hub import LiveHub
from blog_graphql.posts.live import PostFeed
from blog_graphql.presence.live import Presence


@dataclass
class AppState:
    settings: Settings
    db: Database
    rate_limiter: RateLimiter = field(init=False)
    _lockout: LoginLockout | None = field(default=None, init=False, repr=False)
    live: LiveHub = field(init=False)
    # What comment services report committed changes to, and what subscriptions read.
    comment_feed: CommentFeed = field(init=False)
    # Readers and typers of posts' threads (`threadPresence`, `setTyping`).
    presence: Presence = field(init=False)
    # What post services report committed changes to, and what post subscriptions read.
    post_feed: PostFeed = field(init=False)
    # Closed first, at shutdown, by whoever made them (the HTTP layer's response cache).
    closing: list[Callable[[], Awaitable[None]]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.rate_limiter = RateLimiter.from_settings(self.settings)
        self.live = LiveHub.create(self.settings, self.db)
        cursors = EventCursors(self.settings.secret_key)
        self.comment_feed = CommentFeed(self.db, self.live, cursors)
        self.presence = Presence.create(self.settings, self.db, self.live, self.rate_limiter.pool)
        self.post_feed = PostFeed(self.db, self.live, on_hidden=self.comment_feed.post_hidden)

    @classmethod
    def create(cls, settings: Settings) -> AppState:
        return cls(settings=settings, db=Database.from_settings(settings))

    @property
    def lockout(self) -> LoginLockout:
        """The login lockout, made on first use over the rate limiter's Redis pool (one
        pool per process; its owner closes it), or over the database without Redis."""
        if self._lockout is None:
            self._lockout = create_lockout(self.db, self.rate_limiter.pool)
        return self._lockout

    async def close(self) -> None:
        await self.presence.close()
        for close in self.closing:
            await close()
        await self.live.close()
        await self.rate_limiter.close()
        await self.db.dispose()
