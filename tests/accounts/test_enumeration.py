"""Nobody learns whether an account exists from login, register or requestPasswordReset.

Answers are compared byte for byte; timing is compared by the work done (SQL statements,
bcrypt checks), which is what a stopwatch would measure.
"""

from blog_graphql.emails.models import PENDING
from tests.accounts.operations import REQUEST_RESET, login, outbox
from tests.conftest import graphql
from tests.factories import create_user


async def measured(sql_log, bcrypt_calls, attempt):
    """The answer of `attempt` and the work it caused."""
    sql_log.clear()
    bcrypt_calls.clear()
    body = await attempt()
    return body, len(sql_log.statements()), bcrypt_calls.checks


async def test_a_wrong_password_and_an_unknown_login_look_the_same(
    client, db, sql_log, bcrypt_calls
):
    await create_user(db, username="ada", email="ada@example.com")
    await login(client, "warm-up")  # the dummy hash is made once per process

    outcomes = [
        await measured(sql_log, bcrypt_calls, lambda name=name: login(client, name, "Wrong123x"))
        for name in ("ada", "ghost", "ada@example.com", "ghost@example.com")
    ]
    assert all(outcome == outcomes[0] for outcome in outcomes), outcomes
    body, statements, checks = outcomes[0]
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert (statements, checks) == (2, 1)  # the lookup, the counted attempt; one bcrypt


async def test_a_deactivated_account_with_its_password_looks_unknown(
    client, db, sql_log, bcrypt_calls
):
    await create_user(db, username="ada", is_active=False)
    await login(client, "warm-up")
    deactivated = await measured(sql_log, bcrypt_calls, lambda: login(client, "ada"))
    unknown = await measured(sql_log, bcrypt_calls, lambda: login(client, "ghost"))
    assert deactivated == unknown


async def test_password_reset_answers_true_for_anyone_and_mails_only_real_accounts(client, db):
    await create_user(db, username="ada", email="ada@example.com")
    await create_user(db, username="off", email="off@example.com", is_active=False)
    for email in ("ada@example.com", "ghost@example.com", "off@example.com"):
        body = await graphql(client, REQUEST_RESET, {"email": email})
        assert body == {"data": {"requestPasswordReset": True}}
    [queued] = await outbox(db)
    assert (queued.template, queued.recipient) == ("reset_password", "ada@example.com")
    # Queued in the request's transaction and sent later by the worker: the request
    # never waits on SMTP, so a real account does not answer more slowly.
    assert queued.status == PENDING and queued.sent_at is None
