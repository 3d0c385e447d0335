"""Deleting a user, a post or a comment removes the reactions, bookmarks and follows
hanging on it: the foreign keys cascade, on SQLite too (its foreign keys are on)."""

from __future__ import annotations

from sqlalchemy import func, select, text

from blog_graphql.bookmarks.models import Bookmark
from blog_graphql.follows.models import Follow
from blog_graphql.reactions.models import CommentReaction, PostReaction
from tests.content.helpers import comment_id, post_id
from tests.factories import create_comment, create_post, create_user

REACT = "mutation($id: ID!) { react(subjectId: $id, kind: LIKE) { count } }"
BOOKMARK = "mutation($id: ID!) { bookmarkPost(postId: $id) { id } }"
FOLLOW = "mutation($name: String!) { followUser(username: $name) { id } }"
DELETE_POST = "mutation($id: ID!) { deletePost(id: $id) }"
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) }"


async def rows(db) -> dict[str, int]:
    async with db.session() as session:
        return {
            table.__tablename__: int(await session.scalar(select(func.count()).select_from(table)))
            for table in (PostReaction, CommentReaction, Bookmark, Follow)
        }


async def everything_on(call, db, author, reader):
    """The reader reacts to a post and a comment, saves the post and follows the author."""
    post = await create_post(db, author=author)
    comment = await create_comment(db, post=post, author=author)
    for subject in (post_id(post), comment_id(comment)):
        assert "errors" not in await call(REACT, {"id": subject}, user=reader)
    assert "errors" not in await call(BOOKMARK, {"id": post_id(post)}, user=reader)
    assert "errors" not in await call(FOLLOW, {"name": author.username}, user=reader)
    return post, comment


async def test_foreign_keys_are_enforced(db):
    async with db.session() as session:
        if db.dialect == "sqlite":
            assert await session.scalar(text("PRAGMA foreign_keys")) == 1
        else:
            assert db.dialect == "postgresql"


async def test_deleting_a_comment_removes_its_reactions(call, db):
    author, reader = await create_user(db), await create_user(db)
    _post, comment = await everything_on(call, db, author, reader)

    assert (await call(DELETE_COMMENT, {"id": comment_id(comment)}, user=author))["data"]
    assert await rows(db) == {
        "post_reactions": 1,
        "comment_reactions": 0,
        "bookmarks": 1,
        "follows": 1,
    }


async def test_deleting_a_post_removes_its_reactions_bookmarks_and_its_comments_reactions(call, db):
    author, reader = await create_user(db), await create_user(db)
    post, _comment = await everything_on(call, db, author, reader)

    assert (await call(DELETE_POST, {"id": post_id(post)}, user=author))["data"]
    assert await rows(db) == {
        "post_reactions": 0,
        "comment_reactions": 0,
        "bookmarks": 0,
        "follows": 1,
    }


async def test_deleting_a_user_removes_what_they_did_and_what_hangs_on_them(call, db):
    author, reader, other = await create_user(db), await create_user(db), await create_user(db)
    await everything_on(call, db, author, reader)  # the reader's doings
    await everything_on(call, db, other, author)  # the author's doings on another's post
    assert await rows(db) == {
        "post_reactions": 2,
        "comment_reactions": 2,
        "bookmarks": 2,
        "follows": 2,
    }

    async with db.transaction() as session:
        await session.delete(await session.get(type(reader), reader.id))
    assert await rows(db) == {
        "post_reactions": 1,
        "comment_reactions": 1,
        "bookmarks": 1,
        "follows": 1,
    }
    async with db.transaction() as session:  # the author: their posts go, and their follow
        await session.delete(await session.get(type(author), author.id))
    assert await rows(db) == {
        "post_reactions": 0,
        "comment_reactions": 0,
        "bookmarks": 0,
        "follows": 0,
    }


ANONYMOUS_VIEW = """query($slug: String!, $name: String!) {
  post(slug: $slug) { reactions { count } }
  user(username: $name) { followerCount }
}"""


async def test_the_response_cache_forgets_an_anonymous_answer_once_reactions_or_follows_change(
    call, db, settings
):
    assert settings.response_cache_enabled
    author, reader = await create_user(db), await create_user(db)
    post = await create_post(db, author=author)
    variables = {"slug": post.slug, "name": author.username}
    before = (await call(ANONYMOUS_VIEW, variables))["data"]
    assert before == {"post": {"reactions": [{"count": 0}] * 3}, "user": {"followerCount": 0}}
    assert (await call(ANONYMOUS_VIEW, variables))["data"] == before  # cached now

    await call(REACT, {"id": post_id(post)}, user=reader)
    await call(FOLLOW, {"name": author.username}, user=reader)

    after = (await call(ANONYMOUS_VIEW, variables))["data"]
    likes = [{"count": 1}, {"count": 0}, {"count": 0}]
    assert after == {"post": {"reactions": likes}, "user": {"followerCount": 1}}
