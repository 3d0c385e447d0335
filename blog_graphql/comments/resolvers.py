"""Comment mutations and node refetching: translate, delegate, translate back."""

from __future__ import annotations

import strawberry

from blog_graphql.accounts.permissions import IsAdmin, IsAuthenticated, signed_in_user
from blog_graphql.comments import service
from blog_graphql.comments.types import Comment
from blog_graphql.context import Info
from blog_graphql.relay.ids import decode_id
from blog_graphql.relay.node import register_node


@register_node("Comment")
async def fetch_comment(info: Info, pk: int) -> Comment | None:
    row = await info.context.loaders.comment.load(pk)
    return Comment.from_row(row) if row else None


@strawberry.input(description="A comment on a post, or a reply when `parentId` is given.")
class AddCommentInput:
    post_id: strawberry.ID
    content: str = strawberry.field(description="Plain text, 1 to 10,000 characters.")
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="The comment answered; it must be on the same post."
    )


@strawberry.type
class CommentMutation:
    @strawberry.mutation(
        description="Comment on a post. With COMMENT_MODERATION=pre it waits for an admin.",
        permission_classes=[IsAuthenticated],
    )
    async def add_comment(self, info: Info, input: AddCommentInput) -> Comment:
        comment = await service.add_comment(
            info.context.db,
            signed_in_user(info),
            post_id=decode_id(input.post_id, "Post", "postId"),
            content=input.content,
            parent_id=decode_id(input.parent_id, "Comment", "parentId")
            if input.parent_id
            else None,
            moderation=info.context.settings.comment_moderation,
            events=info.context.state.comment_feed,
        )
        return Comment.from_row(comment)

    @strawberry.mutation(
        description="Edit a comment (its author or an admin).",
        permission_classes=[IsAuthenticated],
    )
    async def update_comment(self, info: Info, id: strawberry.ID, content: str) -> Comment:
        comment = await service.update_comment(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "Comment"),
            content,
            moderation=info.context.settings.comment_moderation,
            events=info.context.state.comment_feed,
        )
        return Comment.from_row(comment)

    @strawberry.mutation(
        description="Delete a comment (its author or an admin). One with replies stays as a "
        "tombstone (`isDeleted`, empty content) so the thread reads on; one without goes.",
        permission_classes=[IsAuthenticated],
    )
    async def delete_comment(self, info: Info, id: strawberry.ID) -> bool:
        return await service.delete_comment(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "Comment"),
            events=info.context.state.comment_feed,
        )

    @strawberry.mutation(
        description="Show (approved: true) or hide a comment. Admins.",
        permission_classes=[IsAdmin],
    )
    async def moderate_comment(self, info: Info, id: strawberry.ID, approved: bool) -> Comment:
        comment = await service.moderate_comment(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "Comment"),
            approved=approved,
            events=info.context.state.comment_feed,
        )
        return Comment.from_row(comment)
