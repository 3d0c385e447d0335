"""The development mailbox in a real browser: styled, framed, links live, no CSP complaint."""

import time

import httpx

from tests.accounts.operations import REGISTER
from tests.browser import offline_page, requires_chromium
from tests.live_server import clean_environment, live_server

REGISTRATION = {"email": "ada@example.com", "username": "ada", "password": "Password123"}


def wait_until_sent(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "sent</span>" in httpx.get(f"{url}/dev/mailbox").text:
            return
        time.sleep(0.2)
    raise TimeoutError("the welcome email was never sent")


@requires_chromium
async def test_a_browser_shows_the_mailbox_and_an_email_with_nothing_refused(tmp_path):
    env = clean_environment(PUBLIC_URL="http://localhost:5173")
    with live_server(env=env, cwd=tmp_path) as server:
        registered = httpx.post(  # noqa: ASYNC210 (the server is another process)
            f"{server.url}/graphql", json={"query": REGISTER, "variables": {"input": REGISTRATION}}
        )
        wait_until_sent(server.url)
        async with offline_page() as page:
            await page.send("Page.navigate", url=f"{server.url}/dev/mailbox")
            await page.wait_for("document.querySelectorAll('tbody a').length === 1")
            listed = await page.evaluate("document.querySelector('tbody a').href")
            await page.send("Page.navigate", url=listed)
            await page.wait_for("location.pathname === '/dev/mailbox/1'")
            await page.wait_for("document.readyState === 'complete'")
            styled = await page.evaluate(
                "getComputedStyle(document.querySelector('pre')).whiteSpace"
            )
            links = await page.evaluate("[...document.querySelectorAll('pre a')].map(a => a.href)")
            framed = await page.evaluate("document.querySelector('iframe').getAttribute('src')")
    assert "errors" not in registered.json()
    assert styled == "pre-wrap"  # the same-origin stylesheet loaded
    assert len(links) == 1 and links[0].startswith("http://localhost:5173/verify-email?token=")
    assert framed == "/dev/mailbox/1/html"
    assert page.blocked == []
    assert page.console_errors == []  # no CSP violation anywhere
