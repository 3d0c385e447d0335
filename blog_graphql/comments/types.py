"""GraphQL shapes of comments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum

import strawberry

from blog_graphql.accounts.types import User
from blog_graphql.comments import models
from blog_graphql.comments.loaders import THREAD_CURSOR, thread_key
from blog_graphql.comments.mentions import comment_html
from blog_graphql.context import Context, Info
from blog_graphql.db.keyset import AnyRow
from blog_graphql.engine import batched, one, same_for_every_viewer
from blog_graphql.errors import NotFound
from blog_graphql.posts.types import Post, prefetched_authors
from blog_graphql.reactions.types import ReactionCount, comment_reactions
from blog_graphql.relay.node import Node
from blog_graphql.relay.pagination import Connection, PageLoader, nested_connections

# The batch resolvers of the fields below (`batching.py`).


async def authors_of(context: Context, comments: Sequence[Comment]) -> list[User]:
    return await prefetched_authors(context, comments)


async def replies_of(
    context: Context,
    comments: Sequence[Comment],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Comment]]:
    loaders = context.loaders
    parents = [comment.pk for comment in comments]
    return await _threads(loaders.replies, loaders.reply_count, parents, first, after, last, before)


async def _threads(
    pages: PageLoader,
    counts: PageLoader,
    parents: Sequence[int],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> list[Connection[Comment]]:
    return await nested_connections(
        pages, counts, parents=parents,
        first=first, after=after, last=last, before=before,
        shape=THREAD_CURSOR, key=thread_key, node=Comment.from_page_row,
    )  # fmt: skip


@strawberry.type(
    description="A comment on a post, or a reply to another comment. Deleting a comment "
    "that has replies leaves a tombstone (`isDeleted: true`, empty `content`) so the "
    "thread stays readable; deleting one without replies removes it, and a tombstone "
    "goes too once its last reply is deleted."
)
class Comment(Node):
    pk: strawberry.Private[int]
    post_id: strawberry.Private[int]
    author_id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]
    content: str = strawberry.field(description="Plain text as written; empty when deleted.")
    is_approved: bool = strawberry.field(
        description="False while waiting for a moderator, or hidden by one; unapproved "
        "comments are seen only by their author and admins."
    )
    is_deleted: bool = strawberry.field(
        description="A deleted comment kept as a tombstone because it has replies."
    )
    created_at: datetime
    updated_at: datetime
    # The author, when the comment came with it: a page of comments reads them in its
    # statement, and a live event loads both at once for every subscriber of an instance,
    # so neither needs the user loader.
    prefetched_author: strawberry.Private[User | None] = None

    @classmethod
    def from_row(cls, row: models.Comment | AnyRow, author: User | None = None) -> Comment:
        return cls(
            pk=row.id,
            post_id=row.post_id,
            author_id=row.author_id,
            parent_id=row.parent_id,
            content=row.content,
            is_approved=row.is_approved,
            is_deleted=row.deleted_at is not None,
            created_at=row.created_at,
            updated_at=row.updated_at,
            prefetched_author=author,
        )

    @classmethod
    def from_page_row(cls, row: AnyRow) -> Comment:
        """From a row of a comments page, its author's columns along (`load_replies`)."""
        return cls.from_row(row, User.from_author_columns(row))

    @strawberry.field(
        description="The content as HTML: escaped, a paragraph per blank-line-separated "
        "block, and each `@username` linked to `${PUBLIC_URL}/users/<username>`."
    )
    @same_for_every_viewer
    def content_html(self, info: Info) -> str:
        return comment_html(self.content, info.context.state.settings.public_url)

    @strawberry.field(description="Kept on a tombstone, so replies still read in context.")
    @same_for_every_viewer
    @batched(authors_of)
    async def author(self, info: Info) -> User:
        return await one(authors_of, info, self)

    @strawberry.field(
        description="Every kind of reaction, in the order LIKE, CLAP, INSIGHTFUL, zeros included."
    )
    @batched(comment_reactions)
    async def reactions(self, info: Info) -> list[ReactionCount]:
        return await one(comment_reactions, info, self)

    @strawberry.field
    async def post(self, info: Info) -> Post:
        row = await info.context.loaders.post.load(self.post_id)
        if row is None:
            raise NotFound()  # unpublished or deleted while this request ran
        return Post.from_row(row)

    @strawberry.field(description="The comment this one replies to; null for a top-level one.")
    async def parent(self, info: Info) -> Comment | None:
        if self.parent_id is None:
            return None
        row = await info.context.loaders.comment.load(self.parent_id)
        return Comment.from_row(row) if row else None

    @strawberry.field(description="Direct replies, oldest first.")
    @batched(replies_of)
    async def replies(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CommentConnection:
        return await one(replies_of, info, self, first=first, after=after, last=last, before=before)


CommentConnection = Connection[Comment]


async def comments_of_posts(
    context: Context,
    post_ids: Sequence[int],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> list[Connection[Comment]]:
    """`Post.comments`: top-level comments, batched across every post of the request."""
    loaders = context.loaders
    return await _threads(
        loaders.comments_of_post, loaders.comment_total, post_ids, first, after, last, before
    )


@strawberry.enum(description="What happened to a comment in a live thread.")
class CommentEventKind(Enum):
    ADDED = strawberry.enum_value("added", description="A new comment (approved, or waiting).")
    EDITED = strawberry.enum_value("edited", description="Its content changed.")
    DELETED = strawberry.enum_value(
        "deleted",
        description="Deleted: `comment` is its tombstone when it has replies, null when it "
        "is gone (drop it from view).",
    )
    APPROVED = strawberry.enum_value(
        "approved",
        description="A moderator let it through, or showed it again: to those who could "
        "not see it before, it is new.",
    )
    HIDDEN = strawberry.enum_value(
        "hidden",
        description="A moderator hid it: `comment` is null for those who may no longer see "
        "it (drop it from view).",
    )
    RESET = strawberry.enum_value(
        "reset",
        description="Replay could not cover the gap since `after` (those events are no "
        "longer kept): refetch the thread. `commentId` is the post's id, `comment` null, "
        "and `cursor` is where the live events that follow start.",
    )


@strawberry.type(
    description="A change to a comment, as the subscriber may see it. Apply `comment` when "
    "present; when it is null, remove the comment `commentId` from view (on `RESET`, "
    "refetch the thread)."
)
class CommentEvent:
    kind: CommentEventKind
    comment_id: strawberry.ID = strawberry.field(description="The comment's global id.")
    comment: Comment | None = strawberry.field(
        description="The comment as it is now; null when it is gone or no longer visible."
    )
    cursor: str = strawberry.field(
        description="This event's place in its post's event stream: keep the last one "
        "received and pass it as `commentEvents(after:)` to resume after a disconnect. "
        "Opaque, and valid for its post only."
    )
