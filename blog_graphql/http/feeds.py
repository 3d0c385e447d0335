"""`/rss.xml`, `/atom.xml`, `/tags/{slug}/rss.xml` and `/sitemap.xml`: public documents,
kept in the response cache and revalidated with ETag and Last-Modified.

A document is built on a miss, with the tables its reads touched recorded, and stored in
the response cache (`response_cache.py`) like an anonymous query's answer: any committed
write to one of those tables (a post published, edited, deleted; a tag or an author
renamed), on any instance, invalidates it. The ETag is a hash of the document's bytes,
which depend only on what it lists; Last-Modified is when the stored document was built
(a later build of the same bytes keeps the ETag but moves Last-Modified on). If-None-Match,
when sent, decides alone (RFC 9110 13.2.2); else If-Modified-Since.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from blog_graphql.db.table_tags import PROCESS_STATE, recording_reads
from blog_graphql.feeds import service
from blog_graphql.http.conditional import etag_of, none_match
from blog_graphql.http.response_cache import Answer, ResponseCache
from blog_graphql.state import AppState

RSS = "application/rss+xml"
ATOM = "application/atom+xml"
XML = "application/xml"
CACHE_CONTROL = "public, max-age=0, must-revalidate"
KEY_PREFIX = "feed:"

Build = Callable[[], Awaitable[bytes | None]]


def feed_routes(state: AppState, cache: ResponseCache | None) -> list[BaseRoute]:
    feeds = Feeds(state, cache)
    return [
        Route("/rss.xml", feeds.rss, methods=["GET"]),
        Route("/atom.xml", feeds.atom, methods=["GET"]),
        Route("/tags/{slug}/rss.xml", feeds.tag_rss, methods=["GET"]),
        Route("/sitemap.xml", feeds.sitemap, methods=["GET"]),
        Route("/sitemap-{page:int}.xml", feeds.sitemap_page, methods=["GET"]),
    ]


class Feeds:
    def __init__(self, state: AppState, cache: ResponseCache | None) -> None:
        self.state = state
        self.cache = cache

    @property
    def public_url(self) -> str:
        return self.state.settings.public_url.rstrip("/")

    async def rss(self, request: Request) -> Response:
        self_url = _here(request)

        async def build() -> bytes:
            return await service.site_rss(self.state.db, self.public_url, self_url)

        return await self._serve(request, RSS, build)

    async def atom(self, request: Request) -> Response:
        self_url = _here(request)

        async def build() -> bytes:
            return await service.site_atom(self.state.db, self.public_url, self_url)

        return await self._serve(request, ATOM, build)

    async def tag_rss(self, request: Request) -> Response:
        slug, self_url = request.path_params["slug"], _here(request)

        async def build() -> bytes | None:
            return await service.tag_rss(self.state.db, self.public_url, self_url, slug)

        return await self._serve(request, RSS, build)

    async def sitemap(self, request: Request) -> Response:
        page_url = str(request.base_url).rstrip("/") + "/sitemap-{page}.xml"
        size = service.SITEMAP_PAGE_SIZE

        async def build() -> bytes | None:
            return await service.sitemap(self.state.db, self.public_url, page_url, size)

        return await self._serve(request, XML, build, f"{size}")

    async def sitemap_page(self, request: Request) -> Response:
        page, size = int(request.path_params["page"]), service.SITEMAP_PAGE_SIZE

        async def build() -> bytes | None:
            return await service.sitemap_page(self.state.db, self.public_url, page, size)

        return await self._serve(request, XML, build, f"{size}")

    async def _serve(self, request: Request, media: str, build: Build, extra: str = "") -> Response:
        """The stored document, or a new one (stored); 304 when the client's is current;
        404 when `build` finds nothing there."""
        key = f"{KEY_PREFIX}{request.base_url}{request.url.path}?{extra}"
        stored, snapshot = (None, None) if self.cache is None else await self.cache.lookup(key)
        if stored is None:
            with recording_reads() as tables:
                body = await build()
            if body is None:
                return Response("Not Found", status_code=404, media_type="text/plain")
            built = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=True)
            stored = Answer(built.encode() + b"\n" + body, etag_of(body), frozenset(tables))
            if self.cache is not None and snapshot is not None and PROCESS_STATE not in tables:
                await self.cache.store(key, stored, snapshot)
        built_header, _, document = stored.body.partition(b"\n")
        last_modified = built_header.decode()
        headers = {
            "ETag": stored.etag, "Last-Modified": last_modified, "Cache-Control": CACHE_CONTROL,
        }  # fmt: skip
        if not _modified(request, stored.etag, last_modified):
            return Response(status_code=304, headers=headers)
        return Response(document, media_type=f"{media}; charset=utf-8", headers=headers)


def _here(request: Request) -> str:
    return str(request.url.replace(query=None, fragment=None))


def _modified(request: Request, etag: str, last_modified: str) -> bool:
    """Whether the client's copy is outdated (or it has none)."""
    if "if-none-match" in request.headers:
        return none_match(request, etag)
    since = request.headers.get("if-modified-since")
    if since is None:
        return True
    try:
        client = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return True  # an unreadable date is ignored (RFC 9110 13.1.3)
    if client.tzinfo is None:
        client = client.replace(tzinfo=UTC)
    return parsedate_to_datetime(last_modified) > client
