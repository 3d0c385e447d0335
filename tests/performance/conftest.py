"""Performance guards: per-client rate limits off, so hundreds of requests stay answered,
and no response cache, so a repeated query is executed again (that is what they measure)."""

import pytest

from blog_graphql.config.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"rate_limit_enabled": False, "response_cache_enabled": False}
    )
