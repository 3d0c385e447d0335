"""Every timestamp read back is aware and in UTC, on each backend and its fast path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database


async def test_a_timestamp_reads_back_in_utc_whatever_the_session_zone(db: Database) -> None:
    written = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=9)))
    async with db.transaction() as session:
        user = User(
            username="zoned", email="zoned@example.com", password_hash="x", full_name="Z",
            created_at=written,
        )  # fmt: skip
        session.add(user)
    on_postgres = db.engine.dialect.name == "postgresql"
    async with db.session() as session:
        if on_postgres:
            # The driver, not the session's zone, decides the zone of what comes back.
            await session.execute(text("SET TIME ZONE 'America/New_York'"))
        try:
            read = await session.scalar(select(User.created_at).where(User.username == "zoned"))
        finally:
            if on_postgres:
                await session.execute(text("RESET TIME ZONE"))  # pooled: leave it as found
    assert read == written
    assert read is not None and read.tzinfo is UTC
    assert read.hour == 20  # 05:06 at +09:00 is 20:06 the day before in UTC
