"""What one running app holds for its whole life: settings and shared connections."""

from __future__ import annotations

from dataclasses import dataclass

from blog_graphql.config import Settings
from blog_graphql.db import Database


@dataclass
class AppState:
    settings: Settings
    db: Database

    @classmethod
    def create(cls, settings: Settings) -> AppState:
        return cls(settings=settings, db=Database.from_url(settings.database_url))

    async def close(self) -> None:
        await self.db.dispose()
