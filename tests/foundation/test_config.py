"""Configuration is validated at start-up with one-line messages naming the variable."""

import pytest

from blog_graphql.config.settings import ConfigError, load_settings
from blog_graphql.db.database import Database


def load(**values: object):
    return load_settings(_env_file=None, **values)


def test_every_accepted_database_url_spelling_maps_to_an_async_driver():
    assert (
        load(database_url="postgres://u@h/db").async_database_url == "postgresql+asyncpg://u@h/db"
    )
    assert load(database_url="postgresql://u@h/db").async_database_url.startswith(
        "postgresql+asyncpg"
    )
    assert load(database_url="postgresql+asyncpg://u@h/d").async_database_url.endswith("@h/d")
    assert load(database_url="sqlite:///x.db").async_database_url == "sqlite+aiosqlite:///x.db"
    assert load(database_url="sqlite+aiosqlite:///x.db").async_database_url.endswith("x.db")


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"database_url": "mysql://root@localhost/blog"}, "DATABASE_URL"),
        ({"database_url": "not a url"}, "DATABASE_URL"),
        ({"smtp_port": "abc"}, "SMTP_PORT"),
        ({"access_token_expire_minutes": "0"}, "ACCESS_TOKEN_EXPIRE_MINUTES"),
        ({"comment_moderation": "sometimes"}, "COMMENT_MODERATION"),
        ({"environment": "staging"}, "ENVIRONMENT"),
        ({"database_pool_size": "0"}, "DATABASE_POOL_SIZE"),
        ({"database_pool_size": "many"}, "DATABASE_POOL_SIZE"),
    ],
)
def test_a_bad_value_names_its_variable_in_one_line(values, variable):
    with pytest.raises(ConfigError) as error:
        load(**values)
    message = str(error.value)
    assert message.startswith(f"{variable}:")
    assert "\n" not in message


def test_production_refuses_a_missing_or_short_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load(environment="production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load(environment="production", secret_key="too-short")
    settings = load(environment="production", secret_key="x" * 32)
    assert settings.is_production
    assert settings.graphiql_enabled is False


def test_lists_come_comma_separated_and_defaults_follow_the_contract(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    settings = load()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.allowed_hosts == ["*"]
    assert settings.access_token_expire_minutes == 30
    assert settings.refresh_token_expire_days == 7
    assert settings.comment_moderation == "post"
    assert settings.rate_limit_enabled is True
    assert settings.graphiql_enabled is True


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1/test", "sqlite:///pool.db"])
async def test_each_process_keeps_database_pool_size_connections_at_most(url):
    # Building the engine connects to nothing: the pool's size is what is checked.
    db = Database.from_settings(load(database_url=url, database_pool_size="7"))
    try:
        pool = db.engine.sync_engine.pool
        assert pool.size() == 7  # type: ignore[attr-defined]
        if url.startswith("postgresql"):  # and none beyond (SQLite's writes are serial anyway)
            assert pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        await db.dispose()
