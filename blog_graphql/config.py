"""Settings from environment variables and an optional `.env`, validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from blog_graphql.setting_types import check_field_rate_limits, check_networks, check_rate_limit

DEFAULT_DATABASE_URL = "sqlite:///./blog_graphql.db"
MIN_SECRET_BYTES = 32
# Only for development: a fixed key keeps tokens valid across restarts on a laptop.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me-0123456789"

ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]

# Root fields an attacker would repeat: guessing passwords, making accounts, mailing people.
DEFAULT_FIELD_RATE_LIMITS = (
    "login=20/minute,register=20/hour,requestPasswordReset=10/hour,addComment=30/minute"
)


class Settings(BaseSettings):
    """Every knob named in API.md, with its documented default."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the database.")
    redis_url: str | None = Field(
        None, description="Redis for jobs, pub/sub and rate limits; unset: all in-process."
    )
    secret_key: str = Field(
        DEVELOPMENT_SECRET_KEY, description="Signs tokens; required (32+ bytes) in production."
    )
    environment: Literal["development", "production"] = "development"
    access_token_expire_minutes: int = Field(30, gt=0)
    refresh_token_expire_days: int = Field(7, gt=0)
    smtp_host: str | None = Field(None, description="Unset: emails are logged, not sent.")
    smtp_port: int = Field(25, gt=0, lt=65536)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(10.0, gt=0)
    emails_from: str = "blog_graphql <noreply@localhost>"
    email_max_retries: int = Field(
        10, ge=0, description="Retries of an email after a transient SMTP failure."
    )
    email_retry_backoff_seconds: float = Field(
        15.0, gt=0, description="First retry delay; it doubles each retry, up to 30 minutes."
    )
    outbox_relay_interval_seconds: float = Field(
        10.0, gt=0, description="How often a worker's relay hands over overdue outbox rows."
    )
    cors_origins: CsvList = Field(default_factory=list)
    allowed_hosts: CsvList = Field(default_factory=lambda: ["*"])
    public_url: str = "http://127.0.0.1:8000"
    comment_moderation: Literal["post", "pre"] = "post"
    rate_limit_enabled: bool = True
    graphiql: bool | None = Field(None, description="Default: on outside production.")
    bcrypt_rounds: int = Field(12, ge=4, le=31)
    # Live subscriptions over WebSocket (see blog_graphql/live/).
    pubsub_prefix: str = Field("blog_graphql:", description="Prefix of every pub/sub channel.")
    ws_connection_init_timeout_seconds: float = Field(10.0, gt=0)
    ws_max_subscriptions_per_connection: int = Field(20, gt=0)
    ws_max_connections_per_client: int = Field(20, gt=0, description="Per instance and address.")
    ws_subscriber_queue_size: int = Field(100, gt=0, description="Events buffered per subscriber.")
    ws_session_check_seconds: float = Field(2.0, gt=0, description="Session recheck period.")

    # Hardening (blog_graphql.query_limits, .ratelimit, .http): limits and browser safety.
    query_max_depth: int = Field(10, ge=1)
    query_max_aliases: int = Field(15, ge=0)
    query_max_tokens: int = Field(2000, ge=1)
    query_max_directives: int = Field(50, ge=0)
    query_max_cost: int = Field(10_000, ge=1)
    introspection: bool | None = Field(None, description="Default: on outside production.")
    field_suggestions: bool | None = Field(None, description="Default: on outside production.")
    rate_limit_client: str = Field("600/minute", description="Operations per client address.")
    rate_limit_user: str = Field("300/minute", description="Operations per signed-in user.")
    rate_limit_fields: str = Field(
        DEFAULT_FIELD_RATE_LIMITS, description="Stricter budgets per root field occurrence."
    )
    trusted_proxies: CsvList = Field(default_factory=list)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    ws_max_message_bytes: int = Field(64 * 1024, ge=1024)

    _split = field_validator("cors_origins", "allowed_hosts", "trusted_proxies", mode="before")(
        _split_csv
    )
    _rate = field_validator("rate_limit_client", "rate_limit_user")(check_rate_limit)
    _field_rates = field_validator("rate_limit_fields")(check_field_rate_limits)
    _proxies = field_validator("trusted_proxies")(check_networks)

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in ASYNC_DRIVERS:
            raise ValueError(f"unknown scheme {scheme!r}: use postgresql:// or sqlite:///path")
        return value

    @field_validator("redis_url", "smtp_host")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        # `REDIS_URL=` in a shell or `.env` means "no Redis", not a URL to parse.
        return value or None

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == DEVELOPMENT_SECRET_KEY
            or len(self.secret_key.encode()) < MIN_SECRET_BYTES
        ):
            raise ValueError(
                f"SECRET_KEY: production needs a secret of at least {MIN_SECRET_BYTES} bytes"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def field_suggestions_enabled(self) -> bool:
        if self.field_suggestions is not None:
            return self.field_suggestions
        return not self.is_production

    @property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url)


def to_async_url(url: str) -> str:
    """Map every accepted spelling of DATABASE_URL onto its async driver."""
    scheme, rest = url.split("://", 1)
    return f"{ASYNC_DRIVERS[scheme]}://{rest}"


def describe_validation_error(error: ValidationError) -> str:
    """One line naming the first offending variable, for the command line."""
    first = error.errors()[0]
    location = first.get("loc") or ()
    message = first["msg"].removeprefix("Value error, ")
    if location:
        return f"{str(location[0]).upper()}: {message}"
    return message


def load_settings(**overrides: object) -> Settings:
    """Read and validate the environment; raise ConfigError with a one-line message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
