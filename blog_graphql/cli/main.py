"""The `blog-graphql` command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy.exc import SQLAlchemyError

from blog_graphql.cli import emails as email_commands
from blog_graphql.cli.support import (
    EXIT_FAILURE,
    EXIT_USAGE,
    CommandError,
    OneLineParser,
    migrate_or_fail,
    non_negative,
    port,
    positive,
    prepare_embedded_database,
)
from blog_graphql.config.settings import ConfigError, Settings, get_settings

if TYPE_CHECKING:
    from blog_graphql.db.database import Database

# --- commands -------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from blog_graphql.observability.logs import configure_logging
    from blog_graphql.observability.tracing import check_tracing
    from blog_graphql.server import serving

    if args.workers > 1 and not settings.redis_url:
        raise CommandError(
            f"--workers {args.workers} needs REDIS_URL: without it the jobs, pub/sub and "
            "rate limits live inside one process",
            EXIT_USAGE,
        )
    check_tracing(settings)
    configure_logging(settings)
    prepare_embedded_database(settings)
    with serving.metrics_directory(shared=args.workers > 1):
        uvicorn.run(
            "blog_graphql.server.serving:app",
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            workers=args.workers,
            **uvicorn_options(settings),
        )


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    import redis

    from blog_graphql.jobs import broker as jobs

    if not settings.redis_url:
        raise CommandError(
            "worker needs REDIS_URL (without it, `blog-graphql serve` runs the jobs itself)",
            EXIT_USAGE,
        )
    try:
        jobs.ping_redis(settings.redis_url)
    except redis.RedisError as error:
        raise CommandError(f"cannot reach Redis: {error}") from None
    from blog_graphql.server import serving

    with serving.worker_observability(settings):
        code = jobs.run_workers(
            processes=args.processes,
            threads=args.threads,
            shutdown_timeout_seconds=args.shutdown_timeout,
        )
    raise SystemExit(code)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `serve` runs uvicorn, apart from where it listens."""
    return {
        "ws_max_size": settings.ws_max_message_bytes,
        "proxy_headers": False,  # X-Forwarded-For is trusted only from TRUSTED_PROXIES
        # Off by default: zlib state per socket costs more than small JSON events save.
        "ws_per_message_deflate": settings.ws_per_message_deflate,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
        "log_level": settings.log_level.lower(),
        "log_config": None,  # our pipeline (logs.py) formats uvicorn's lines too
        "access_log": False,  # our access log (access_log.py) knows the operation and user
        "server_header": False,  # names the server to scanners, and costs a header per answer
        # httptools with a header read timeout, which uvicorn lacks (`http/slow_clients.py`).
        "http": "blog_graphql.http.slow_clients:BoundedHeadersProtocol",
        # loop stays "auto": uvloop (uvicorn[standard]) where installed.
    }


def cmd_migrate(_args: argparse.Namespace, settings: Settings) -> None:
    from blog_graphql.db import migrate

    applied = migrate_or_fail(migrate.upgrade_reporting, settings.database_url)
    if applied:
        print(f"applied {', '.join(applied)}: the database is at the latest migration")
    else:
        print("already up to date: the database is at the latest migration")


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> None:
    from blog_graphql.accounts import service
    from blog_graphql.db.database import Database
    from blog_graphql.errors import Conflict, InvalidInput

    password = os.environ.get("ADMIN_PASSWORD") or _prompt_password()
    prepare_embedded_database(settings)

    async def run() -> None:
        db = Database.from_settings(settings)
        try:
            await service.create_user(
                db,
                email=args.email,
                username=args.username,
                password=password,
                bcrypt_rounds=settings.bcrypt_rounds,
                is_admin=True,
            )
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except (InvalidInput, Conflict) as error:
        field, message = next(iter(error.fields.items()))
        raise CommandError(f"{field}: {message}") from None
    print(f"admin {args.username} created")


def _prompt_password() -> str:
    if not sys.stdin.isatty():
        raise CommandError("set ADMIN_PASSWORD or run in a terminal to type the password")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise CommandError("the passwords do not match")
    return password


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    from blog_graphql.cli.seed import SeedReport, SeedSize, seed
    from blog_graphql.db.database import Database

    if args.posts and not args.users:
        raise CommandError("--posts needs --users of 1 or more", EXIT_USAGE)
    if args.comments and not args.posts:
        raise CommandError("--comments needs --posts of 1 or more", EXIT_USAGE)
    size = SeedSize(users=args.users, posts=args.posts, comments=args.comments, tags=args.tags)
    prepare_embedded_database(settings)

    async def run() -> SeedReport:
        db = Database.from_settings(settings)
        try:
            await _require_migrated(db)
            return await seed(db, size, args.random_seed, settings.bcrypt_rounds)
        finally:
            await db.dispose()

    report = asyncio.run(run())
    reused = f" ({report.tags_reused} already there)" if report.tags_reused else ""
    print(
        f"seeded {size.users} users, {size.tags} tags{reused}, {size.posts} posts and "
        f"{size.comments} comments in {report.seconds:.1f} s, then analysed the tables"
    )


async def _require_migrated(db: Database) -> None:
    """PostgreSQL is migrated by `blog-graphql migrate` only: say so rather than fail on a
    missing table (SQLite, embedded, was migrated just before)."""
    from blog_graphql.db import migrate

    pending = await migrate.pending_revisions(db.engine)
    if pending:
        raise CommandError(
            f"the database lacks migrations {', '.join(pending)}: run `blog-graphql migrate` first"
        )


def cmd_media_sweep(args: argparse.Namespace, settings: Settings) -> None:
    from datetime import timedelta

    from blog_graphql.db.database import Database
    from blog_graphql.media.storage import storage_for
    from blog_graphql.media.sweep import sweep_orphans

    prepare_embedded_database(settings)

    async def run() -> int:
        db = Database.from_settings(settings)
        try:
            await _require_migrated(db)
            grace = timedelta(minutes=args.grace_minutes)
            return await sweep_orphans(db, storage_for(settings), grace=grace)
        finally:
            await db.dispose()

    print(f"removed {asyncio.run(run())} stored object(s) whose image is gone")


def cmd_export_schema(_args: argparse.Namespace, _settings: Settings) -> None:
    from blog_graphql.schema import schema

    print(schema.as_str())


def cmd_settings_table(args: argparse.Namespace, _settings: Settings) -> None:
    from pathlib import Path

    from blog_graphql.config import settings_docs

    if args.update is None:
        print(settings_docs.settings_table())
        return
    try:
        changed = settings_docs.update(Path(args.update))
    except (OSError, ValueError) as error:
        raise CommandError(f"{args.update}: {error}") from None
    print(f"{args.update}: {'updated' if changed else 'already up to date'}")


# --- wiring ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="blog-graphql", description="A GraphQL blog backend.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    serve = commands.add_parser("serve", help="serve the API (migrates embedded SQLite first)")
    serve.add_argument("--host", help="default: HOST, else 127.0.0.1")
    serve.add_argument("--port", type=port, help="default: PORT, else 8000")
    serve.add_argument("--workers", type=positive, default=1)
    serve.set_defaults(run=cmd_serve)

    worker = commands.add_parser("worker", help="run Dramatiq workers for the jobs (needs Redis)")
    worker.add_argument("--processes", type=positive, default=1)
    worker.add_argument("--threads", type=positive, default=8, help="threads per process")
    worker.add_argument(
        "--shutdown-timeout", type=positive, default=60, help="seconds SIGTERM waits for jobs"
    )
    worker.set_defaults(run=cmd_worker)

    commands.add_parser("migrate", help="apply migrations").set_defaults(run=cmd_migrate)

    admin = commands.add_parser("create-admin", help="create an administrator")
    admin.add_argument("--email", required=True)
    admin.add_argument("--username", required=True)
    admin.set_defaults(run=cmd_create_admin)

    seed = commands.add_parser("seed", help="load deterministic demo data")
    seed.add_argument("--users", type=non_negative, default=0)
    seed.add_argument("--posts", type=non_negative, default=0)
    seed.add_argument("--comments", type=non_negative, default=0)
    seed.add_argument("--tags", type=non_negative, default=50)
    seed.add_argument("--random-seed", type=int, default=1)
    seed.set_defaults(run=cmd_seed)

    sweep = commands.add_parser(
        "media-sweep", help="remove stored image files whose image is gone (a deleted user's)"
    )
    sweep.add_argument(
        "--grace-minutes", type=non_negative, default=60,
        help="keep unprocessed uploads younger than this (their row may not be committed yet)",
    )  # fmt: skip
    sweep.set_defaults(run=cmd_media_sweep)

    schema = commands.add_parser("export-schema", help="print the GraphQL SDL")
    schema.set_defaults(run=cmd_export_schema)

    email_commands.register(commands)

    table = commands.add_parser("settings-table", help="print the environment variables table")
    table.add_argument("--update", metavar="FILE", help="rewrite the table in FILE instead")
    table.set_defaults(run=cmd_settings_table)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        args.run(args, settings)
    except ConfigError as error:
        _fail(str(error), EXIT_USAGE)
    except CommandError as error:
        _fail(str(error), error.exit_code)
    except SQLAlchemyError as error:
        _fail(f"database error: {_first_line(error)}", EXIT_FAILURE)
    except OSError as error:
        _fail(f"cannot reach a service: {error.strerror or error}", EXIT_FAILURE)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _first_line(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__


def _fail(message: str, code: int) -> NoReturn:
    print(f"blog-graphql: error: {message}", file=sys.stderr)
    raise SystemExit(code)
