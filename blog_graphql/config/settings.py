"""Settings from environment variables and an optional `.env`, validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from blog_graphql.config.setting_types import (
    check_email_address,
    check_field_rate_limits,
    check_http_url,
    check_networks,
    check_origins,
    check_rate_limit,
    check_redis_url,
    check_trusted_documents,
)

DEFAULT_DATABASE_URL = "sqlite:///./blog_graphql.db"
MIN_SECRET_BYTES = 32
DEFAULT_POOL_SIZE = 20
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


def _blank_to_none(value: object) -> object:
    # `REDIS_URL=` in a shell, `.env` or compose file means "not set", not a value to parse.
    return None if isinstance(value, str) and not value.strip() else value


CsvList = Annotated[list[str], NoDecode]
# Seconds, comma-separated (`WEBHOOK_RETRY_SCHEDULE`); each at least 0, at least one.
SecondsList = Annotated[list[Annotated[float, Field(ge=0)]], NoDecode, Field(min_length=1)]
DEFAULT_WEBHOOK_RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)

# Root fields an attacker would repeat: guessing passwords, making accounts, mailing people.
DEFAULT_FIELD_RATE_LIMITS = (
    "login=20/minute,register=20/hour,requestPasswordReset=10/hour,addComment=30/minute,"
    "setTyping=60/minute,uploadImage=60/hour"
)
# Development's budgets are ten times those: a developer filling a sign-up form over and
# over, wrong inputs included, is not an attacker, and must not be locked out for an hour.
DEVELOPMENT_FIELD_RATE_LIMITS = (
    "login=200/minute,register=200/hour,requestPasswordReset=100/hour,addComment=300/minute,"
    "setTyping=600/minute,uploadImage=600/hour"
)
# Pages a developer's machine serves (an SPA dev server on any port), allowed by default in
# development: the browser's `Origin`, which names no path, must match it whole.
LOOPBACK_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"


class Settings(BaseSettings):
    """Every knob named in API.md, with its documented default."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the database: `postgresql://`, `postgres://`, "
        "`postgresql+asyncpg://`, `sqlite:///path` or `sqlite+aiosqlite:///path`.",
    )
    database_pool_size: int = Field(
        DEFAULT_POOL_SIZE,
        ge=1,
        le=1000,
        description="PostgreSQL connections each API or worker process keeps open, none "
        "beyond: keep processes times this under the server's `max_connections`.",
    )
    redis_url: str | None = Field(
        None, description="Redis for jobs, pub/sub and rate limits; unset: all in-process."
    )
    secret_key: str = Field(
        DEVELOPMENT_SECRET_KEY,
        description="Signs tokens; required (32+ bytes) in production.",
        repr=False,
        json_schema_extra={"doc_default": "a development-only key"},
    )
    environment: Literal["development", "production"] = Field(
        "development", description="`production` demands a real `SECRET_KEY`."
    )
    access_token_expire_minutes: int = Field(30, gt=0, description="Lifetime of access tokens.")
    refresh_token_expire_days: int = Field(7, gt=0, description="Lifetime of a login session.")
    smtp_host: str | None = Field(None, description="Unset: emails are logged, not sent.")
    smtp_port: int = Field(25, gt=0, lt=65536, description="Port of the SMTP server.")
    smtp_user: str | None = Field(None, description="SMTP login, if the server wants one.")
    smtp_password: str | None = Field(None, description="SMTP password; never logged.", repr=False)
    smtp_tls: bool = Field(False, description="Use implicit TLS to the SMTP server.")
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="Give up on a slow SMTP server.")
    emails_from: str = Field(
        "blog_graphql <noreply@localhost>", description="`From:` of every email."
    )
    email_max_retries: int = Field(
        10, ge=0, description="Retries of an email after a transient SMTP failure."
    )
    email_retry_backoff_seconds: float = Field(
        15.0, gt=0, description="First retry delay; it doubles each retry, up to 30 minutes."
    )
    outbox_relay_interval_seconds: float = Field(
        10.0, gt=0, description="How often a worker's relay hands over overdue outbox rows."
    )
    scheduler_enabled: bool = Field(
        True,
        description="Run the loop that publishes scheduled posts in this process (every "
        "serving process and worker runs it; each post goes live once).",
    )
    scheduler_poll_seconds: float = Field(
        1.0, gt=0, le=5, description="How often the scheduler looks for posts due to go live."
    )
    cors_origins: CsvList = Field(
        default_factory=list,
        description="Comma-separated origins (`scheme://host[:port]`) allowed to call the API "
        "and open WebSockets; unset in development: any loopback origin (`localhost`, "
        "`127.0.0.1`, `[::1]`, any port, http or https); unset in production: none.",
        json_schema_extra={"doc_default": "loopback in development, none in production"},
    )
    allowed_hosts: CsvList = Field(
        default_factory=lambda: ["*"], description="Comma-separated `Host` names served."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="The SPA's address: links in emails point to its `/verify-email`, "
        "`/reset-password` and `/posts/{slug}` pages.",
    )
    api_public_url: str | None = Field(
        None,
        description="The API's own public address, for links that the API itself answers "
        "(the one-click unsubscribe of notification emails); unset: `http://HOST:PORT`.",
    )
    notification_digest_seconds: float = Field(
        300.0,
        ge=0,
        description="A notification email waits this long; every notification of its "
        "recipient that arrives meanwhile goes into the same email (a digest).",
    )
    host: str = Field("127.0.0.1", description="Address `serve` listens on; `--host` wins over it.")
    port: int = Field(
        8000,
        gt=0,
        lt=65536,
        description="Port `serve` listens on (hosting platforms set it); `--port` wins over it.",
    )
    comment_moderation: Literal["post", "pre"] = Field(
        "post", description="`pre`: new comments wait for an admin."
    )
    rate_limit_enabled: bool = Field(
        True, description="`false` turns off per-client limits (not the login lockout)."
    )
    graphiql: bool | None = Field(None, description="Default: on outside production.")
    bcrypt_rounds: int = Field(12, ge=4, le=31, description="Cost of password hashing.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log level written."
    )
    log_format: Literal["console", "json"] | None = Field(
        None, description="Default: `json` in production, coloured `console` lines otherwise."
    )
    metrics_token: str | None = Field(
        None,
        min_length=16,
        repr=False,
        description="Bearer token that `GET /metrics` requires; unset: no `/metrics`.",
    )
    shutdown_drain_seconds: float = Field(
        0.0,
        ge=0,
        description="After SIGTERM, keep serving this long with `/readyz` at 503, so load "
        "balancers move away before the instance stops accepting connections.",
    )
    shutdown_timeout_seconds: int = Field(
        20, gt=0, description="After that, how long in-flight requests get to finish."
    )
    worker_http_port: int | None = Field(
        None,
        gt=0,
        lt=65536,
        description="`blog-graphql worker` serves `/healthz` and `/metrics` on this port; "
        "unset: no HTTP.",
    )
    tracing_exporter: Literal["none", "otlp", "console"] = Field(
        "none",
        description="OpenTelemetry spans (needs the `tracing` extra); `otlp` reads the "
        "standard `OTEL_EXPORTER_OTLP_*` variables.",
    )
    # Live subscriptions over WebSocket (see blog_graphql/live/).
    pubsub_prefix: str = Field(
        "blog_graphql:",
        description="Prefix of every pub/sub channel (Redis channels ignore the db index).",
    )
    ws_connection_init_timeout_seconds: float = Field(
        10.0, gt=0, description="A socket without `connection_init` by then is closed (4408)."
    )
    ws_max_subscriptions_per_connection: int = Field(
        20, gt=0, description="Subscriptions allowed on one WebSocket at a time."
    )
    ws_max_connections_per_client: int = Field(
        20,
        gt=0,
        description="WebSockets and streamed HTTP subscriptions (SSE, multipart) per client "
        "address and instance; more get HTTP 429.",
    )
    ws_subscriber_queue_size: int = Field(
        100, gt=0, description="Events buffered per subscription before it counts as too slow."
    )
    ws_session_check_seconds: float = Field(
        2.0, gt=0, description="How soon an ended session or expired token closes its sockets."
    )
    presence_typing_seconds: float = Field(
        6.0,
        gt=0,
        description="How long `setTyping(typing: true)` lasts unless renewed (API.md says 6; "
        "shorter only for tests).",
    )
    presence_heartbeat_seconds: float = Field(
        10.0,
        gt=0,
        description="How often an instance renews its `threadPresence` readers in Redis; "
        "a crashed instance's readers lapse after three.",
    )
    comment_replay_max_events: int = Field(
        1000,
        ge=1,
        description="Comment events each post keeps at least, for `commentEvents(after:)`.",
    )
    comment_replay_seconds: float = Field(
        86_400.0,
        ge=0,
        description="Seconds each comment event is kept at least, however many come after.",
    )
    comment_replay_memory_events: int = Field(
        100_000,
        ge=1,
        description="Without Redis: comment events kept in memory for all posts together "
        "(past it the oldest go, and a client resuming from them gets `RESET`).",
    )
    live_shared_execution: bool = Field(
        True,
        description="Execute a live event once for every subscriber who would get the same "
        "answer; false: once per subscriber (slower; for comparison or if in doubt).",
    )
    ws_per_message_deflate: bool = Field(
        False,
        description="Accept permessage-deflate on WebSockets: events a few times smaller, "
        "at tens of KB of zlib state per socket (docs/operations.md).",
    )

    # Hardening (blog_graphql.query_limits, .ratelimit, .http): limits and browser safety.
    query_max_depth: int = Field(
        15,
        ge=1,
        description="Deepest field nesting. Past any query limit: `QUERY_TOO_COMPLEX`, "
        "with `rule`, `limit` and `measured`.",
    )
    query_max_aliases: int = Field(15, ge=0, description="Aliases allowed in one operation.")
    query_max_tokens: int = Field(2000, ge=1, description="Tokens allowed in one document.")
    query_max_directives: int = Field(50, ge=0, description="Directives allowed in one operation.")
    query_max_cost: int = Field(
        10_000,
        ge=1,
        description="Largest cost: each object answered costs 1 (scalars 0), and a list "
        "multiplies what it contains by its `first` (default 20).",
    )
    introspection: bool | None = Field(None, description="Default: on outside production.")
    field_suggestions: bool | None = Field(None, description="Default: on outside production.")
    fast_engine: bool = Field(
        True,
        description="`false` runs every operation on Strawberry's stock executor: the same "
        "answers, more CPU (docs/architecture.md).",
    )
    rate_limit_client: str = Field("600/minute", description="Operations per client address.")
    rate_limit_user: str = Field("300/minute", description="Operations per signed-in user.")
    rate_limit_fields: str | None = Field(
        None,
        description="Stricter budgets per root field occurrence (aliases count each): "
        f"`name=rate;rate,...`. Default in production: `{DEFAULT_FIELD_RATE_LIMITS}`; "
        "in development ten times each.",
        json_schema_extra={"doc_default": "see the description"},
    )
    trusted_proxies: CsvList = Field(
        default_factory=list,
        description="Comma-separated proxy addresses or networks whose `X-Forwarded-For` "
        "names the client; none: the header is ignored.",
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Larger request bodies get HTTP 413."
    )
    http_header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A request's headers must all arrive this soon after the connection "
        "opens or the previous answer; else HTTP 408 and the connection closes.",
    )
    http_body_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="A request's body must all arrive this soon after its headers; "
        "else HTTP 408 and the connection closes.",
    )
    ws_max_message_bytes: int = Field(
        64 * 1024, ge=1024, description="Larger WebSocket messages close the socket (1009)."
    )
    # Persisted documents (blog_graphql.http.persisted): APQ and a trusted manifest.
    trusted_documents: str | None = Field(
        None,
        description="Path of a GraphQL Codegen persisted-documents manifest "
        '(`{"sha256:<hex>": "<document>"}`), run by `documentId`; unset: none.',
    )
    trusted_documents_only: bool = Field(
        False,
        description="`true` runs only the manifest's documents: any other query, an APQ "
        "registration included, is `BAD_REQUEST`.",
    )
    # Media (blog_graphql.media): uploaded images, their variants, where they are kept.
    media_root: str = Field(
        "./media",
        description="Directory of uploaded images and their variants, served under `/media/` "
        "(local storage: when `MEDIA_S3_BUCKET` is unset).",
    )
    media_s3_bucket: str | None = Field(
        None,
        description="An S3 bucket for images instead of `MEDIA_ROOT`; credentials from the "
        "usual AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`).",
    )
    media_s3_endpoint_url: str | None = Field(
        None, description="An S3-compatible server's address (MinIO, R2, ...); unset: AWS."
    )
    media_url: str = Field(
        "/media",
        description="Base of image URLs in answers: `/media` (this API serves them), or an "
        "absolute address (a CDN, Caddy, the bucket's public address).",
    )
    media_max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Larger uploaded files get HTTP 413."
    )
    media_max_pixels: int = Field(
        40_000_000, ge=1, description="Larger images (width x height) are refused."
    )
    media_user_quota_bytes: int = Field(
        200 * 1024 * 1024,
        ge=0,
        description="Bytes of uploaded files each user may keep (deleting images frees them).",
    )
    # The response cache (blog_graphql.http.response_cache) for anonymous queries.
    response_cache_enabled: bool = Field(
        True,
        description="Keep anonymous query answers (in process, and in Redis when "
        "`REDIS_URL` is set) until a committed write to what they read invalidates them.",
    )
    response_cache_max_bytes: int = Field(
        32 * 1024 * 1024,
        ge=0,
        description="Bytes of answers each process keeps in memory (least recently used go first).",
    )
    response_cache_ttl_seconds: int = Field(
        600, ge=1, description="How long an answer stays in Redis at most (shared cache)."
    )

    # Webhooks (blog_graphql.webhooks): signed POSTs of events to admin-chosen URLs.
    webhook_retry_schedule: SecondsList = Field(
        default_factory=lambda: list(DEFAULT_WEBHOOK_RETRY_SCHEDULE),
        description="Seconds between a webhook delivery's attempts, comma-separated; when "
        "they run out the delivery has failed. The default retries for about 27.6 hours.",
        json_schema_extra={"doc_default": "5,300,1800,7200,18000,36000,36000"},
    )
    webhook_allow_private: bool = Field(
        False,
        description="`true` lets webhooks reach private, loopback and link-local addresses "
        "(a receiver on the same network); otherwise only public ones.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Give up on a webhook receiver that answers no sooner."
    )

    _split = field_validator("cors_origins", "allowed_hosts", "trusted_proxies", mode="before")(
        _split_csv
    )
    _webhook_schedule = field_validator("webhook_retry_schedule", mode="before")(_split_csv)
    _rate = field_validator("rate_limit_client", "rate_limit_user")(check_rate_limit)
    _field_rates = field_validator("rate_limit_fields")(check_field_rate_limits)
    _proxies = field_validator("trusted_proxies")(check_networks)
    _origins = field_validator("cors_origins")(check_origins)
    _redis = field_validator("redis_url")(check_redis_url)
    _public_url = field_validator("public_url")(check_http_url)
    _from = field_validator("emails_from")(check_email_address)
    _manifest = field_validator("trusted_documents")(check_trusted_documents)
    _blank_is_unset = field_validator(
        "redis_url",
        "smtp_host",
        "api_public_url",
        "metrics_token",
        "log_format",
        "rate_limit_fields",
        "trusted_documents",
        "media_s3_bucket",
        "media_s3_endpoint_url",
        mode="before",
    )(_blank_to_none)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in ASYNC_DRIVERS:
            raise ValueError(f"unknown scheme {scheme!r}: use postgresql:// or sqlite:///path")
        return value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("api_public_url")
    @classmethod
    def _api_url_checked(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value).rstrip("/")

    @property
    def api_url(self) -> str:
        """API_PUBLIC_URL without a trailing slash, or the address `serve` listens on."""
        return (self.api_public_url or f"http://{self.host}:{self.port}").rstrip("/")

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

    @model_validator(mode="after")
    def _trusted_only_needs_a_manifest(self) -> Settings:
        if self.trusted_documents_only and self.trusted_documents is None:
            raise ValueError("TRUSTED_DOCUMENTS_ONLY: set TRUSTED_DOCUMENTS to a manifest too")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def cors_origin_pattern(self) -> str | None:
        """Origins allowed beyond `cors_origins`: loopback ones in development, by default."""
        return None if self.is_production or self.cors_origins else LOOPBACK_ORIGINS

    @property
    def field_rate_limits(self) -> str:
        if self.rate_limit_fields is not None:
            return self.rate_limit_fields
        return DEFAULT_FIELD_RATE_LIMITS if self.is_production else DEVELOPMENT_FIELD_RATE_LIMITS

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
    def log_format_resolved(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "console"

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
