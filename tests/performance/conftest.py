"""Performance guards: per-client rate limits off, so hundreds of requests stay answered."""

import pytest

from blog_graphql.config.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": False})
