"""`/email/unsubscribe`: RFC 8058 one-click unsubscribe, answered by the API itself.

A mail client POSTs `List-Unsubscribe=One-Click` to the URL of the email's
`List-Unsubscribe` header; that turns the email's kind off (`unsubscribe(token)` does the
same for the SPA's page). A GET (a link scanner, a client without one-click) changes
nothing: it is sent on to the SPA's `/unsubscribe` page, which asks before it acts.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from blog_graphql.errors import InvalidInput
from blog_graphql.notifications import preferences
from blog_graphql.state import AppState

PATH = "/email/unsubscribe"


async def one_click(request: Request) -> Response:
    state: AppState = request.app.state.blog
    token = request.query_params.get("token", "")
    try:
        await preferences.unsubscribe(state.db, state.settings.secret_key, token)
    except InvalidInput:
        return PlainTextResponse(preferences.BAD_TOKEN, status_code=400)
    return PlainTextResponse("You are unsubscribed from these emails.")


async def to_the_page(request: Request) -> Response:
    state: AppState = request.app.state.blog
    query = urlencode({"token": request.query_params.get("token", "")})
    return RedirectResponse(f"{state.settings.public_url}/unsubscribe?{query}", status_code=303)


def unsubscribe_routes() -> list[BaseRoute]:
    return [Route(PATH, one_click, methods=["POST"]), Route(PATH, to_the_page, methods=["GET"])]
