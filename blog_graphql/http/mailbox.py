"""`/dev/mailbox`: every email the outbox holds, readable in a browser, in development only.

Like Phoenix's `/dev/mailbox`: a developer without SMTP opens the verification or reset
link from here. Every value is escaped; the pages load nothing but this server's own
stylesheet (GraphiQL's Content-Security-Policy), and an email's HTML body is shown in a
sandboxed frame that may style itself but run nothing.
"""

from __future__ import annotations

import re
from html import escape

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from blog_graphql.emails import service
from blog_graphql.emails.preview import Preview, preview
from blog_graphql.http.graphiql import PAGE_CSP
from blog_graphql.state import AppState

PATH = "/dev/mailbox"
LIST_LIMIT = 200
URL = re.compile(r"https?://[^\s<>\"']+")
# The email's own HTML: its inline <style> may apply; nothing else loads or runs, and only
# the mailbox page may frame it.
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)
STYLESHEET = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 960px; padding: 24px;
       color: #1f2937; }
h1 { font-size: 22px; } h1 small { color: #6b7280; font-weight: normal; font-size: 14px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e5e7eb; }
tr:hover td { background: #f9fafb; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dt { color: #6b7280; } dd { margin: 0; }
pre { white-space: pre-wrap; background: #f9fafb; padding: 16px; border: 1px solid #e5e7eb; }
iframe { width: 100%; height: 480px; border: 1px solid #e5e7eb; }
.status { font-size: 12px; padding: 1px 6px; border-radius: 8px; background: #e5e7eb; }
"""
# An envelope, so that browsers ask for this rather than a /favicon.ico nobody serves.
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect x="1" y="3" width="14" height="10" rx="1" fill="#2563eb"/>'
    '<path d="M1.5 4 8 9l6.5-5" stroke="#fff" fill="none"/></svg>'
)
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}


def mailbox_routes() -> list[BaseRoute]:
    """Mounted only outside production: there every one of these paths is a 404."""
    return [
        Route(PATH, list_page, methods=["GET"]),
        Route(f"{PATH}/mailbox.css", stylesheet, methods=["GET"]),
        Route(f"{PATH}/icon.svg", icon, methods=["GET"]),
        Route(PATH + "/{email_id:int}", email_page, methods=["GET"]),
        Route(PATH + "/{email_id:int}/html", email_html, methods=["GET"]),
    ]


async def list_page(request: Request) -> Response:
    state = _state(request)
    emails = await service.list_emails(state.db, failed_only=False, limit=LIST_LIMIT)
    items = [preview(state.settings, email) for email in emails]
    rows = "\n".join(_row(item) for item in items) or (
        '<tr><td colspan="5">No emails yet: register a user, or ask for a password reset.</td></tr>'
    )
    body = f"""<h1>Mailbox <small>development only; newest first</small></h1>
<table>
<thead><tr><th>#</th><th>Queued (UTC)</th><th>To</th><th>Subject</th><th>Status</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""
    return _page("Mailbox", body)


def _row(item: Preview) -> str:
    link = f"{PATH}/{item.id}"
    return (
        f"<tr><td>{item.id}</td><td>{item.created_at:%Y-%m-%d %H:%M:%S}</td>"
        f"<td>{escape(dict(item.headers)['To'])}</td>"
        f'<td><a href="{link}">{escape(item.subject)}</a></td>'
        f'<td><span class="status">{escape(item.status)}</span></td></tr>'
    )


async def email_page(request: Request) -> Response:
    item = await _preview_or_404(request)
    headers = "\n".join(
        f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in item.headers
    )
    if item.rendered is None:
        content = "<p>The body was not kept once sent.</p>"
    else:
        content = f"""<h2>Text</h2>
<pre>{linked_text(item.rendered.text)}</pre>
<h2>HTML</h2>
<iframe src="{PATH}/{item.id}/html" sandbox title="The HTML body"></iframe>"""
    body = f"""<p><a href="{PATH}">&larr; All emails</a></p>
<h1>{escape(item.subject)}</h1>
<dl>
{headers}
<dt>Status</dt><dd><span class="status">{escape(item.status)}</span></dd>
</dl>
{content}"""
    return _page(item.subject, body)


async def email_html(request: Request) -> Response:
    item = await _preview_or_404(request)
    if item.rendered is None:
        raise HTTPException(404)
    headers = {
        "Content-Security-Policy": EMAIL_CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(item.rendered.html, headers=headers)


async def stylesheet(_request: Request) -> Response:
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "no-store"})


async def icon(_request: Request) -> Response:
    return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


def linked_text(text: str) -> str:
    """`text` escaped, each http(s) URL in it a link."""
    parts, position = [], 0
    for match in URL.finditer(text):
        url = escape(match.group())
        parts.append(escape(text[position : match.start()]))
        parts.append(f'<a href="{url}">{url}</a>')
        position = match.end()
    parts.append(escape(text[position:]))
    return "".join(parts)


async def _preview_or_404(request: Request) -> Preview:
    state = _state(request)
    email = await service.get_email(state.db, request.path_params["email_id"])
    if email is None:
        raise HTTPException(404)
    return preview(state.settings, email)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.blog
    return state


def _page(title: str, body: str) -> HTMLResponse:
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{PATH}/mailbox.css">
<link rel="icon" href="{PATH}/icon.svg" type="image/svg+xml">
</head>
<body>
{body}
</body>
</html>"""
    return HTMLResponse(page, headers=PAGE_HEADERS)
