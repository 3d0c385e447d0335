"""The feeds and the sitemap as documents: what each lists, rendered."""

from __future__ import annotations

from math import ceil
from urllib.parse import urlsplit

from blog_graphql.db.database import Database
from blog_graphql.feeds import queries, render

SITEMAP_PAGE_SIZE = 50_000  # the most URLs one sitemap may hold (sitemaps.org)


def _site_name(public_url: str) -> str:
    return urlsplit(public_url).netloc or public_url


async def site_rss(db: Database, public_url: str, self_url: str) -> bytes:
    posts = await queries.newest_posts(db)
    return render.rss(_site_channel(public_url, self_url), posts, public_url)


async def site_atom(db: Database, public_url: str, self_url: str) -> bytes:
    posts = await queries.newest_posts(db)
    return render.atom(_site_channel(public_url, self_url), posts, public_url)


def _site_channel(public_url: str, self_url: str) -> render.Channel:
    name = _site_name(public_url)
    return render.Channel(
        title=name, description=f"The newest posts on {name}", home=f"{public_url}/",
        self_url=self_url,
    )  # fmt: skip


async def tag_rss(db: Database, public_url: str, self_url: str, slug: str) -> bytes | None:
    """The tag's feed; None when there is no such tag."""
    found = await queries.find_tag(db, slug)
    if found is None:
        return None
    tag_id, tag = found
    posts = await queries.newest_posts(db, tag_id)
    channel = render.Channel(
        title=f"{tag.name} - {_site_name(public_url)}",
        description=f"The newest posts filed under {tag.name}",
        home=f"{public_url}/tags/{tag.slug}", self_url=self_url,
    )  # fmt: skip
    return render.rss(channel, posts, public_url)


async def sitemap(
    db: Database, public_url: str, page_url: str, page_size: int = SITEMAP_PAGE_SIZE
) -> bytes:
    """Every public page in one sitemap; past `page_size` entries, an index of the pages
    (`page_url` with `{page}` in it: 1, 2...)."""
    size = await queries.sitemap_size(db)
    if size <= page_size:
        return render.urlset(await queries.sitemap_entries(db, 0, page_size), public_url)
    pages = ceil(size / page_size)
    return render.sitemap_index([page_url.format(page=page) for page in range(1, pages + 1)])


async def sitemap_page(
    db: Database, public_url: str, page: int, page_size: int = SITEMAP_PAGE_SIZE
) -> bytes | None:
    """Page `page` (from 1) of a sitemap too long for one; None past the last."""
    if page < 1:
        return None
    entries = await queries.sitemap_entries(db, (page - 1) * page_size, page_size)
    return render.urlset(entries, public_url) if entries else None
