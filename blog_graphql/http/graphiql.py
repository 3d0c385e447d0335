"""GraphiQL served entirely from this package: it works with no internet connection.

The scripts and styles are package data (`graphiql/vendor/`, rebuilt from pinned npm
packages by `scripts/build_graphiql.py`), so the page's Content-Security-Policy allows the
server's own origin and nothing else: no CDN, no inline script or style, no `data:` URL.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).parent
ASSETS_PATH = "/graphiql"
PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",  # CSP 3: also the same host over ws:// and wss://
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


class GraphiQLPage:
    """Renders the page for a browser's `GET /graphql`."""

    def __init__(self, endpoint_path: str = "/graphql") -> None:
        self.endpoint_path = endpoint_path
        self.template = (HERE / "graphiql.html").read_text(encoding="utf-8")

    def __call__(self, request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = self.template.format(
            assets=escape(root + ASSETS_PATH), endpoint=escape(root + self.endpoint_path)
        )
        headers = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
        return HTMLResponse(html, headers=headers)


def graphiql_assets() -> Mount:
    return Mount(ASSETS_PATH, StaticFiles(directory=HERE / "graphiql"), name="graphiql")
