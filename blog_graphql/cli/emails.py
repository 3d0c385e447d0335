"""`blog-graphql emails list|show|retry`: see the outbox, read one email, send failed ones again."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from blog_graphql.cli.support import (
    CommandError,
    OneLineParser,
    positive,
    prepare_embedded_database,
)
from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.emails import outbox, preview, service
from blog_graphql.emails.models import OutboxEmail
from blog_graphql.jobs import broker as jobs

T = TypeVar("T")
COLUMNS = "{:>6}  {:<8}  {:>8}  {:<16}  {:<16}  {:<32}  {}"
HEADER = COLUMNS.format("id", "status", "attempts", "created (UTC)", "template", "to", "last error")


def register(commands: Any) -> None:
    """Add `emails list`, `emails show` and `emails retry` to the command line."""
    emails = commands.add_parser("emails", help="list outbox emails; show one; retry failed ones")
    actions = emails.add_subparsers(
        dest="emails_command", required=True, parser_class=OneLineParser
    )

    listing = actions.add_parser("list", help="the newest emails first")
    listing.add_argument("--failed", action="store_true", help="only the failed ones")
    listing.add_argument("--limit", type=positive, default=50)
    listing.set_defaults(run=cmd_list)

    show = actions.add_parser("show", help="print one email whole: headers and text body")
    show.add_argument("id", type=positive, help="the email's id (see `emails list`)")
    show.set_defaults(run=cmd_show)

    retry = actions.add_parser("retry", help="send failed emails again")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=positive, help="the email's id (see `emails list`)")
    which.add_argument("--all-failed", action="store_true", help="every failed email")
    retry.set_defaults(run=cmd_retry)


def cmd_list(args: argparse.Namespace, settings: Settings) -> None:
    emails = _run(
        settings, lambda db: service.list_emails(db, failed_only=args.failed, limit=args.limit)
    )
    if not emails:
        print("no failed emails" if args.failed else "no emails")
        return
    print(
        COLUMNS.format("id", "status", "attempts", "created (UTC)", "template", "to", "last error")
    )
    for email in emails:
        print(_row(email))


def _row(email: OutboxEmail) -> str:
    error = " ".join((email.last_error or "").split())
    created = email.created_at.strftime("%Y-%m-%d %H:%M")
    return COLUMNS.format(
        email.id, email.status, email.attempts, created, email.template, email.recipient, error
    )


def cmd_show(args: argparse.Namespace, settings: Settings) -> None:
    email = _run(settings, lambda db: service.get_email(db, args.id))
    if email is None:
        raise CommandError(f"no email with id {args.id}")
    print(preview.as_text(preview.preview(settings, email)), end="")


def cmd_retry(args: argparse.Namespace, settings: Settings) -> None:
    async def retry(db: Database) -> tuple[int, int | None]:
        refs = await service.retry_failed(db, email_id=args.id)
        if not refs or not settings.redis_url:
            return len(refs), None
        # With Redis, a worker is listening: hand over now rather than at the next relay.
        jobs.configure(settings)
        return len(refs), await outbox.hand_over(db, refs, now=utcnow())

    try:
        count, handed = _run(settings, retry)
    except service.CannotRetry as error:
        raise CommandError(str(error)) from None
    if not count:
        print("no failed emails to retry")
    elif handed is None:
        print(
            f"{count} email(s) queued again; `blog-graphql serve` sends them within "
            f"{settings.outbox_relay_interval_seconds:g} s"
        )
    else:
        print(
            f"{count} email(s) queued again, {handed} handed to the workers"
            + ("" if handed == count else "; the relay hands over the rest")
        )


def _run(settings: Settings, use: Callable[[Database], Awaitable[T]]) -> T:
    prepare_embedded_database(settings)

    async def run() -> T:
        db = Database.from_settings(settings)
        try:
            return await use(db)
        finally:
            await db.dispose()

    return asyncio.run(run())
