"""What one running app holds for its whole life: settings and shared connections."""

from __future__ import annotations

from dataclasses import dataclass, field

from blog_graphql.accounts.lockout import LoginLockout, create_lockout
from blog_graphql.config import Settings
from blog_graphql.db import Database
from blog_graphql.ratelimit import RateLimiter


@dataclass
class AppState:
    settings: Settings
    db: Database
    rate_limiter: RateLimiter = field(init=False)
    lockout: LoginLockout = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limiter = RateLimiter.from_settings(self.settings)
        # One Redis pool per process: the login lockout counts in the rate limiter's.
        self.lockout = create_lockout(self.db, self.rate_limiter.pool)

    @classmethod
    def create(cls, settings: Settings) -> AppState:
        return cls(settings=settings, db=Database.from_url(settings.database_url))

    async def close(self) -> None:
        await self.rate_limiter.close()
        await self.db.dispose()
