"""`blog-graphql serve` without REDIS_URL runs the jobs itself: its relay and its worker."""

from __future__ import annotations

import signal

from blog_graphql.db.database import utcnow
from blog_graphql.emails.models import PENDING, SENT
from tests.emails.stand_in import add_unsent_row, wait_for_statuses
from tests.live_server import clean_environment, live_server


async def test_serve_sends_an_overdue_email_through_its_in_process_worker(
    db, database_url, smtp_server, tmp_path
):
    # Committed by an earlier process that died before handing it over.
    await add_unsent_row(db, status=PENDING, next_attempt_at=utcnow())
    env = clean_environment(
        DATABASE_URL=database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port)
    )

    with live_server(env=env, cwd=tmp_path) as server:
        [mail] = await smtp_server.wait_for(1)
        await wait_for_statuses(db, [SENT])

    # Uvicorn re-raises SIGTERM once its graceful shutdown (our worker's stop) is done; a
    # shutdown that hung would have ended in SIGKILL.
    assert server.process.returncode == -signal.SIGTERM
    assert mail.recipients == ["hal@example.com"]
    assert mail.link("/reset-password") == "http://127.0.0.1:8000/reset-password?token=t0k3n"
