"""A small blog for the performance guards: every kind of object the bench queries touch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blog_graphql.accounts.models import User
from blog_graphql.comments import service as comments_service
from blog_graphql.comments.events import NO_EVENTS
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database
from blog_graphql.posts.models import Post
from blog_graphql.relay.ids import encode_id
from tests.factories import create_comment, create_post, create_user

BENCH_QUERIES = Path(__file__).parents[2] / "bench" / "queries"
FEED_POSTS = 21  # one more than the feed's page, so it has a next page
COMMENTS_PER_POST = 6  # one more than the feed shows per post


def bench_queries() -> dict[str, str]:
    """bench/queries/q1_feed.graphql ... by their short name (`q1`)."""
    return {
        path.name.split("_")[0]: path.read_text()
        for path in sorted(BENCH_QUERIES.glob("q*.graphql"))
    }


@dataclass
class World:
    admin: User
    writer: User
    readers: list[User]
    posts: list[Post]
    draft: Post
    waiting: Comment  # not approved yet

    def variables(self) -> dict[str, Any]:
        """Every variable a bench query declares (the others are ignored)."""
        return {"slug": self.posts[-1].slug, "tag": "python", "search": "python"}

    def all_variables(self) -> dict[str, Any]:
        """Values for the variable names the test suite's documents use."""
        post, tag_id = self.posts[-1], 1
        ids = {
            "post": encode_id("Post", post.id),
            "user": encode_id("User", self.writer.id),
            "tag": encode_id("Tag", tag_id),
            "comment": encode_id("Comment", self.waiting.id - 1),
            "draft": encode_id("Post", self.draft.id),
            "waiting": encode_id("Comment", self.waiting.id),
        }
        return {
            **self.variables(),
            **ids,
            "s": post.slug, "q": "python", "first": 3, "username": self.writer.username,
            "id": ids["post"], "u": ids["user"], "t": ids["tag"], "a": ids["post"],
            "b": ids["comment"], "postId": ids["post"],
        }  # fmt: skip


async def build_world(db: Database) -> World:
    admin = await create_user(db, is_admin=True)
    writer = await create_user(db, full_name="Ada Writer")
    readers = [await create_user(db) for _ in range(3)]
    posts = []
    for n in range(FEED_POSTS):
        author = writer if n % 2 else readers[0]
        title = f"Python notes {n}" if n % 3 == 0 else f"Post {n}"
        post = await create_post(db, author=author, title=title, tags=["python", f"t{n % 3}"])
        posts.append(post)
        for m in range(COMMENTS_PER_POST):
            await create_comment(db, post=post, author=readers[m % 3], content=f"c{n}.{m}")
    waiting = await build_thread(db, posts[-1], readers)
    draft = await create_post(db, author=writer, title="Draft", published=False, tags=["python"])
    return World(admin, writer, readers, posts, draft, waiting)


async def build_thread(db: Database, post: Post, readers: list[User]) -> Comment:
    """Replies two levels deep (each level by its own people, so no level finds its
    authors already loaded), a comment waiting for moderation, and a tombstone."""
    repliers = [await create_user(db) for _ in range(2)]
    for n in range(3):
        top = await create_comment(db, post=post, author=readers[n], content=f"top {n}")
        for m in range(2):
            reply = await create_comment(
                db, post=post, author=repliers[m], parent=top, content=f"reply {n}.{m}"
            )
            await create_comment(db, post=post, author=readers[2], parent=reply, content="deep")
    gone = await create_comment(db, post=post, author=readers[2], content="to delete")
    await create_comment(db, post=post, author=readers[0], parent=gone, content="answer")
    await comments_service.delete_comment(db, readers[2], gone.id, events=NO_EVENTS)
    return await create_comment(db, post=post, author=readers[1], approved=False, content="waiting")
