"""Webhook tests: receivers on 127.0.0.1 (so private addresses are allowed), quick retries."""

from __future__ import annotations

import pytest

from blog_graphql.config.settings import Settings
from tests.webhooks.receiver import receiver, second_receiver  # noqa: F401 (fixtures)

# Seconds between attempts: a retry at once, another a second later, then failed for good.
TEST_SCHEDULE = [0, 1]
TEST_TIMEOUT_SECONDS = 1.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings (digests sent at once, say), with quick webhook retries."""
    return settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_retry_schedule": TEST_SCHEDULE,
            "webhook_timeout_seconds": TEST_TIMEOUT_SECONDS,
        }
    )
