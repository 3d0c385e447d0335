"""The documents: RSS 2.0 and Atom 1.0 by feedgen, the sitemap (sitemaps.org 0.9) by lxml.

Each is a function of what it lists alone, never of the clock: feedgen would stamp a
feed's `updated`/`lastBuildDate` with the time it ran, so they are set to the newest
change of a listed post. The same posts give the same bytes, so the same ETag, on every
instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree

from blog_graphql.feeds.queries import FeedPost, SitemapEntry

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # an empty feed's `updated`


@dataclass(frozen=True)
class Channel:
    """What a feed is about: its title, the page it stands for, its own address."""

    title: str
    description: str
    home: str  # the SPA page the feed follows
    self_url: str  # where the feed itself is served


def post_url(public_url: str, slug: str) -> str:
    return f"{public_url}/posts/{slug}"


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _feed(channel: Channel, posts: Sequence[FeedPost], public_url: str) -> FeedGenerator:
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)  # RSS names an author only by email
    feed.id(channel.self_url)
    feed.title(channel.title)
    feed.description(channel.description)  # RSS's <description>, Atom's <subtitle>
    feed.link(href=channel.self_url, rel="self")
    feed.link(href=channel.home, rel="alternate")  # the last link is RSS's <link>
    feed.language("en")
    newest = max((_aware(post.updated_at) for post in posts), default=EPOCH)
    feed.updated(newest)
    feed.lastBuildDate(newest)
    for post in posts:  # newest first, as given
        url = post_url(public_url, post.slug)
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(post.title)
        entry.link(href=url, rel="alternate")
        entry.summary(post.excerpt or post.title)  # RSS's <description>, Atom's <summary>
        entry.author({"name": post.author})
        entry.dc.dc_creator(post.author)
        entry.published(_aware(post.published_at))
        entry.updated(_aware(post.updated_at))
        for tag in post.tags:
            entry.category(term=tag)
    return feed


def rss(channel: Channel, posts: Sequence[FeedPost], public_url: str) -> bytes:
    return bytes(_feed(channel, posts, public_url).rss_str(pretty=True))


def atom(channel: Channel, posts: Sequence[FeedPost], public_url: str) -> bytes:
    return bytes(_feed(channel, posts, public_url).atom_str(pretty=True))


def urlset(entries: Sequence[SitemapEntry], public_url: str) -> bytes:
    """A sitemap: one <url> per entry, with <lastmod> where known."""
    root = etree.Element(_tag("urlset"), nsmap={None: SITEMAP_NS})
    for entry in entries:
        url = etree.SubElement(root, _tag("url"))
        etree.SubElement(url, _tag("loc")).text = public_url + entry.path
        if entry.lastmod is not None:
            lastmod = _aware(entry.lastmod).astimezone(UTC).replace(microsecond=0)
            etree.SubElement(url, _tag("lastmod")).text = lastmod.isoformat()
    return _xml(root)


def sitemap_index(locations: Sequence[str]) -> bytes:
    """A sitemap index: the sitemaps of a site with more entries than one may hold."""
    root = etree.Element(_tag("sitemapindex"), nsmap={None: SITEMAP_NS})
    for location in locations:
        sitemap = etree.SubElement(root, _tag("sitemap"))
        etree.SubElement(sitemap, _tag("loc")).text = location
    return _xml(root)


def _tag(name: str) -> str:
    return f"{{{SITEMAP_NS}}}{name}"


def _xml(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
