"""The post scheduler in `blog-graphql worker` processes, told to the whole deployment.

A post the worker publishes must reach what serving processes hold: live subscribers
(through Redis pub/sub) and every instance's response cache (its invalidation channel).
So the worker's loop reports to the same post feed and cache an app would build. Serve's
in-process worker (no REDIS_URL) runs none: serve's own loop publishes there.
"""

from __future__ import annotations

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.http.view import response_cache_of
from blog_graphql.jobs import broker as jobs
from blog_graphql.posts.scheduling import run_scheduler
from blog_graphql.state import AppState


async def schedule_in_worker(db: Database, settings: Settings) -> None:
    """Beside the actors for the worker's life (cancelled at its shutdown)."""
    if settings.redis_url is None or not settings.scheduler_enabled:
        return
    state = AppState(settings=settings, db=db)
    response_cache_of(state)  # commits now invalidate every instance's cached answers
    try:
        await run_scheduler(db, settings, state.post_feed)
    finally:
        await state.presence.close()
        for close in state.closing:
            await close()
        await state.live.close()
        await state.rate_limiter.close()


jobs.run_in_workers(schedule_in_worker)
