"""RSS, Atom, a tag's RSS and the sitemap: valid documents (feedparser, lxml), public
posts only, links to the SPA, ETag / Last-Modified / 304, and invalidation by writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import feedparser
import pytest
from lxml import etree

from blog_graphql.feeds import service as feeds_service
from blog_graphql.posts import service as posts_service
from tests.factories import create_post, create_user

PUBLIC_URL = "http://127.0.0.1:8000"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def parsed(response):
    assert response.status_code == 200, response.text
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return feed


def sitemap_locations(response) -> tuple[str, list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    return root.tag, [loc.text for loc in root.iter(f"{SITEMAP}loc")]


async def test_rss_lists_the_20_newest_public_posts_linking_to_the_spa(client, db):
    ada = await create_user(db, username="ada")
    posts = [
        await create_post(db, author=ada, title=f"Post {n}", tags=["Python"]) for n in range(22)
    ]
    await create_post(db, author=ada, title="Secret draft", published=False)
    response = await client.get("/rss.xml")
    assert response.headers["content-type"].startswith("application/rss+xml")
    feed = parsed(response)
    assert feed.version == "rss20"
    assert [entry.title for entry in feed.entries] == [f"Post {n}" for n in range(21, 1, -1)]
    newest = posts[-1]
    assert feed.entries[0].link == f"{PUBLIC_URL}/posts/{newest.slug}"
    assert feed.entries[0].id == f"{PUBLIC_URL}/posts/{newest.slug}"
    assert feed.entries[0].author == "ada"
    assert [tag.term for tag in feed.entries[0].tags] == ["Python"]
    assert "Secret draft" not in response.text


async def test_atom_is_valid_atom_with_the_same_posts(client, db):
    ada = await create_user(db)
    await create_post(db, author=ada, title="First", excerpt="The first one.")
    await create_post(db, author=ada, title="Second")
    feed = parsed(await client.get("/atom.xml"))
    assert feed.version == "atom10"
    assert [entry.title for entry in feed.entries] == ["Second", "First"]
    assert feed.entries[1].summary == "The first one."
    assert feed.entries[0].link.startswith(f"{PUBLIC_URL}/posts/")
    assert feed.feed.updated_parsed is not None


async def test_empty_feeds_are_valid(client):
    assert parsed(await client.get("/rss.xml")).entries == []
    assert parsed(await client.get("/atom.xml")).entries == []


async def test_a_tags_rss_lists_its_public_posts_and_an_unknown_tag_is_404(client, db):
    ada = await create_user(db)
    await create_post(db, author=ada, title="Tagged", tags=["GraphQL"])
    await create_post(db, author=ada, title="Other", tags=["Rust"])
    await create_post(db, author=ada, title="Tagged draft", tags=["GraphQL"], published=False)
    feed = parsed(await client.get("/tags/graphql/rss.xml"))
    assert [entry.title for entry in feed.entries] == ["Tagged"]
    assert "GraphQL" in feed.feed.title
    assert feed.feed.link == f"{PUBLIC_URL}/tags/graphql"
    missing = await client.get("/tags/no-such-tag/rss.xml")
    assert missing.status_code == 404


async def test_sitemap_lists_public_posts_and_tags(client, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, title="Hello world", tags=["Python"])
    draft = await create_post(db, author=ada, title="Hidden", tags=["Secret"], published=False)
    tag, locations = sitemap_locations(await client.get("/sitemap.xml"))
    assert tag == f"{SITEMAP}urlset"
    assert locations == [
        f"{PUBLIC_URL}/", f"{PUBLIC_URL}/tags/python", f"{PUBLIC_URL}/posts/{post.slug}",
    ]  # fmt: skip
    assert draft.slug not in str(locations) and "secret" not in str(locations)
    root = etree.fromstring((await client.get("/sitemap.xml")).content)
    lastmods = [node.text for node in root.iter(f"{SITEMAP}lastmod")]
    assert len(lastmods) == 1 and datetime.fromisoformat(lastmods[0]).tzinfo is not None


async def test_a_long_sitemap_is_an_index_of_pages(client, db, monkeypatch):
    monkeypatch.setattr(feeds_service, "SITEMAP_PAGE_SIZE", 3)
    ada = await create_user(db)
    posts = [await create_post(db, author=ada, title=f"P {n}", tags=["Go"]) for n in range(5)]
    tag, pages = sitemap_locations(await client.get("/sitemap.xml"))
    assert tag == f"{SITEMAP}sitemapindex"
    assert pages == [f"http://testserver/sitemap-{n}.xml" for n in (1, 2, 3)]  # 7 entries
    seen = []
    for page in pages:
        page_tag, locations = sitemap_locations(
            await client.get(page.removeprefix("http://testserver"))
        )
        assert page_tag == f"{SITEMAP}urlset" and len(locations) <= 3
        seen += locations
    expected = [f"{PUBLIC_URL}/", f"{PUBLIC_URL}/tags/go"]
    expected += [f"{PUBLIC_URL}/posts/{post.slug}" for post in posts]
    assert seen == expected
    assert (await client.get("/sitemap-4.xml")).status_code == 404
    assert (await client.get("/sitemap-0.xml")).status_code == 404


@pytest.mark.parametrize("path", ["/rss.xml", "/atom.xml", "/tags/python/rss.xml", "/sitemap.xml"])
async def test_etag_and_last_modified_answer_304(client, db, path):
    ada = await create_user(db)
    await create_post(db, author=ada, tags=["Python"])
    first = await client.get(path)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, max-age=0, must-revalidate"
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert (await client.get(path, headers={"If-None-Match": f"W/{etag}"})).status_code == 304
    assert (await client.get(path, headers={"If-None-Match": '"other"'})).status_code == 200
    assert (await client.get(path, headers={"If-Modified-Since": modified})).status_code == 304
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    assert (await client.get(path, headers={"If-Modified-Since": earlier})).status_code == 200
    # If-None-Match decides alone when both are sent.
    both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert (await client.get(path, headers=both)).status_code == 200
    assert (await client.get(path, headers={"If-Modified-Since": "garbage"})).status_code == 200


async def test_publishing_changes_every_feed_and_its_etag(make_instance, db):
    """Cached documents die with any committed post change, on every instance (shared
    Redis versions when TEST_REDIS_URL is set)."""
    one, other = make_instance(), make_instance()
    ada = await create_user(db)
    await create_post(db, author=ada, title="Old news", tags=["Python"])
    draft = await create_post(db, author=ada, title="Fresh", tags=["Python"], published=False)
    before = {}
    for path in ("/rss.xml", "/atom.xml", "/tags/python/rss.xml", "/sitemap.xml"):
        response = await one.client.get(path)
        assert (await one.client.get(path)).headers["etag"] == response.headers["etag"]  # kept
        before[path] = response
    assert "Fresh" not in before["/rss.xml"].text
    # Published through the other instance's database: only the cache's versions tell.
    await posts_service.publish_post(other.state.db, ada, draft.id)
    for path, old in before.items():
        response = await one.client.get(path, headers={"If-None-Match": old.headers["etag"]})
        assert response.status_code == 200, path
        assert response.headers["etag"] != old.headers["etag"]
        assert "Fresh" in response.text or "/posts/fresh" in response.text
    titles = [entry.title for entry in parsed(await one.client.get("/rss.xml")).entries]
    assert titles == ["Fresh", "Old news"]
    # Unpublished again: gone from the feed.
    await posts_service.unpublish_post(other.state.db, ada, draft.id)
    titles = [entry.title for entry in parsed(await one.client.get("/atom.xml")).entries]
    assert titles == ["Old news"]


async def test_feeds_work_with_the_response_cache_off(make_instance, db):
    plain = make_instance(response_cache_enabled=False)
    ada = await create_user(db)
    await create_post(db, author=ada, title="Uncached")
    first = await plain.client.get("/rss.xml")
    assert [entry.title for entry in parsed(first).entries] == ["Uncached"]
    again = await plain.client.get("/rss.xml", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
