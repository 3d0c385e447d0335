"""Webhook tests: receivers on 127.0.0.1 (so private addresses are allowed), quick retries."""

from __future__ import annotations

import pytest

from blog_graphql.config.settings import Settings, load_settings
from tests.conftest import TEST_BCRYPT_ROUNDS
from tests.webhooks.receiver import receiver, second_receiver  # noqa: F401 (fixtures)

# Seconds between attempts: a retry at once, another a second later, then failed for good.
TEST_SCHEDULE = [0, 1]
TEST_TIMEOUT_SECONDS = 1.0


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        bcrypt_rounds=TEST_BCRYPT_ROUNDS,
        redis_url=None,
        smtp_host=None,
        webhook_allow_private=True,
        webhook_retry_schedule=TEST_SCHEDULE,
        webhook_timeout_seconds=TEST_TIMEOUT_SECONDS,
        _env_file=None,
    )
