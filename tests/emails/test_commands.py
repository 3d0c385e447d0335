"""`blog-graphql emails list|retry`, `worker` and `serve --workers` on the command line."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from blog_graphql.emails.models import FAILED, PENDING, SENT, OutboxEmail
from blog_graphql.emails.relay import relay_due_emails
from tests.emails.stand_in import outbox_rows, sign_up
from tests.smtp import PERMANENT_REPLY


@pytest.fixture
def cli_env(database_url):
    return {"DATABASE_URL": database_url, "REDIS_URL": ""}


async def test_failed_emails_are_listed_and_retried_one_by_one_or_all(
    db, mailbox, cli_env, run_cli
):
    mailbox.server.refuse_permanently()
    for name in ("ada", "bob", "cy"):
        await sign_up(db, name)
    await mailbox.expect(0)
    ada, bob, cy = await outbox_rows(db)
    await mark(db, cy, status=SENT)  # an email that went out is listed, not retried

    listing = await run_cli("emails", "list", "--failed", env=cli_env)
    assert listing.code == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == [
        "id", "status", "attempts", "created", "(UTC)", "template", "to", "last", "error",
    ]  # fmt: skip
    assert [line.split()[:3] for line in lines[1:]] == [
        [str(bob.id), "failed", "1"],
        [str(ada.id), "failed", "1"],
    ]
    assert all(line.endswith(PERMANENT_REPLY) for line in lines[1:])
    assert len((await run_cli("emails", "list", env=cli_env)).stdout.splitlines()) == 4

    mailbox.server.accept()
    one = await run_cli("emails", "retry", str(ada.id), env=cli_env)
    assert one.code == 0, one.stderr
    assert (
        one.stdout.strip() == "1 email(s) queued again; `blog-graphql serve` sends them within 10 s"
    )
    assert [row.status for row in await outbox_rows(db)] == [PENDING, FAILED, SENT]
    rest = await run_cli("emails", "retry", "--all-failed", env=cli_env)
    assert rest.stdout.startswith("1 email(s) queued again")

    # What `serve`'s relay does at its next pass:
    assert await relay_due_emails(db) == 2
    mails = await mailbox.expect(2)
    assert sorted(mail.recipients[0] for mail in mails) == ["ada@example.com", "bob@example.com"]
    assert [row.status for row in await outbox_rows(db)] == [SENT, SENT, SENT]
    again = await run_cli("emails", "retry", "--all-failed", env=cli_env)
    assert again.stdout.strip() == "no failed emails to retry"


async def mark(db, row: OutboxEmail, **values) -> None:
    async with db.transaction() as session:
        await session.execute(update(OutboxEmail).where(OutboxEmail.id == row.id).values(**values))


async def test_retrying_what_is_not_a_failed_email_is_one_line_and_a_failure(
    db, mailbox, cli_env, run_cli
):
    await sign_up(db, "ada")
    [row] = await outbox_rows(db)
    await mailbox.expect(1)

    for email_id, expected in ((row.id, f"email {row.id} is sent, not failed"),
                               (999, "no email with id 999")):  # fmt: skip
        result = await run_cli("emails", "retry", str(email_id), env=cli_env)
        assert result.code == 1
        assert result.stderr == f"blog-graphql: error: {expected}\n"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["worker"], {"REDIS_URL": ""}, "worker needs REDIS_URL"),
        (["worker"], {"REDIS_URL": "redis://127.0.0.1:1/0"}, "cannot reach Redis"),
        (["worker", "--threads", "0"], {}, "--threads"),
        (["serve", "--workers", "2"], {"REDIS_URL": ""}, "--workers 2 needs REDIS_URL"),
        (["emails", "retry"], {}, "one of the arguments id --all-failed is required"),
        (["emails", "retry", "3", "--all-failed"], {}, "not allowed with argument id"),
        (["emails", "list", "--limit", "0"], {}, "--limit"),
    ],
)
def test_job_commands_refuse_misuse_in_one_line(args, env, expected, cli, tmp_path):
    result = cli(*args, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", **env)
    assert result.code != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
