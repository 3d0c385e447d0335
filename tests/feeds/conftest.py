"""The caching tests' app instances (with Redis when TEST_REDIS_URL is set)."""

from tests.caching.conftest import make_instance  # noqa: F401
