"""Bookmark mutations: translate, delegate, translate back."""

from __future__ import annotations

import strawberry

from blog_graphql.accounts.permissions import IsAuthenticated, signed_in_user
from blog_graphql.bookmarks import service
from blog_graphql.context import Info
from blog_graphql.errors import NotFound
from blog_graphql.posts.types import Post
from blog_graphql.relay.ids import decode_id


async def _post(info: Info, pk: int) -> Post:
    row = await info.context.loaders.post.load(pk)
    if row is None:
        raise NotFound()  # deleted or hidden meanwhile
    return Post.from_row(row)


@strawberry.type
class BookmarkMutation:
    @strawberry.mutation(
        description="Save a post the viewer may see to their reading list (again: no change).",
        permission_classes=[IsAuthenticated],
    )
    async def bookmark_post(self, info: Info, post_id: strawberry.ID) -> Post:
        pk = decode_id(post_id, "Post", "postId")
        await service.bookmark_post(info.context.db, signed_in_user(info), pk)
        return await _post(info, pk)

    @strawberry.mutation(
        description="Take a post off the viewer's reading list (nothing if it is not there).",
        permission_classes=[IsAuthenticated],
    )
    async def unbookmark_post(self, info: Info, post_id: strawberry.ID) -> Post:
        pk = decode_id(post_id, "Post", "postId")
        await service.unbookmark_post(info.context.db, signed_in_user(info), pk)
        return await _post(info, pk)
