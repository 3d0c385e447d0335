"""Post and tag queries and mutations: translate, delegate, translate back."""

from __future__ import annotations

from datetime import datetime

import strawberry

from blog_graphql.accounts.permissions import IsAuthenticated, signed_in_user
from blog_graphql.context import Info
from blog_graphql.db.table_tags import record_process_state_read
from blog_graphql.posts import previews, queries, scheduling, service
from blog_graphql.posts.inputs import CreatePostInput, PostFilter, UpdatePostInput
from blog_graphql.posts.types import Post, PostConnection, PostRevision, Tag
from blog_graphql.relay.ids import decode_id
from blog_graphql.relay.node import register_node
from blog_graphql.relay.pagination import build_connection


@register_node("Tag")
async def fetch_tag(info: Info, pk: int) -> Tag | None:
    row = await info.context.loaders.tag.load(pk)
    return Tag.from_row(row) if row else None


@register_node("Post")
async def fetch_post(info: Info, pk: int) -> Post | None:
    row = await info.context.loaders.post.load(pk)
    return Post.from_row(row) if row else None


@register_node("PostRevision")
async def fetch_revision(info: Info, pk: int) -> PostRevision | None:
    row = await info.context.loaders.revision.load(pk)
    return PostRevision.from_row(row) if row else None


@strawberry.type(description="A link that shows a draft to whoever holds it.")
class PreviewLink:
    url: str = strawberry.field(description="`${PUBLIC_URL}/preview/<token>`.")
    token: str = strawberry.field(description="What `postPreview(token:)` takes.")
    expires_at: datetime


@strawberry.type
class PostQuery:
    @strawberry.field(
        description="The post a live preview token opens (a draft or a scheduled post, "
        "read-only); null for an expired, revoked or forged token."
    )
    async def post_preview(self, info: Info, token: str) -> Post | None:
        # Never answered from the response cache: a token lapses with no write to tell it.
        record_process_state_read()
        settings = info.context.settings
        row = await previews.find_previewed_post(
            info.context.db, token, secret_key=settings.secret_key
        )
        return Post.from_row(row) if row else None

    @strawberry.field(
        description="Every tag by name, but those used only by posts the viewer may not read."
    )
    async def tags(self, info: Info) -> list[Tag]:
        rows = await service.list_tags(info.context.db, info.context.viewer)
        return [Tag.from_row(row) for row in rows]

    @strawberry.field(
        description="The tag at `slug`, ignoring case; null when there is none, or it files "
        "only posts the viewer may not read."
    )
    async def tag(self, info: Info, slug: str) -> Tag | None:
        row = await service.find_tag_by_slug(info.context.db, info.context.viewer, slug)
        return Tag.from_row(row) if row else None

    @strawberry.field(description="The post at `slug`; null when missing or not visible.")
    async def post(self, info: Info, slug: str) -> Post | None:
        row = await queries.find_post_by_slug(info.context.db, info.context.viewer, slug)
        return Post.from_card(row) if row else None

    @strawberry.field(
        description="Newest first by publishedAt (drafts by createdAt), ties by id; with a "
        "search, best matches first. Drafts only to their author and admins."
    )
    async def posts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: PostFilter | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PostConnection:
        post_filter = filter.to_filter() if filter else queries.PostFilter()
        page = await queries.list_posts(
            info.context.db,
            info.context.viewer,
            post_filter,
            queries.PageArguments(first=first, after=after, last=last, before=before),
        )
        return build_connection(
            page.rows,
            window=page.window,
            key=page.key,
            node=Post.from_card,
            count=page.count,
        )


@strawberry.type
class PostMutation:
    @strawberry.mutation(
        description="Write a post; a draft unless published.", permission_classes=[IsAuthenticated]
    )
    async def create_post(self, info: Info, input: CreatePostInput) -> Post:
        post = await service.create_post(
            info.context.db,
            signed_in_user(info),
            input.to_new_post(),
            events=info.context.state.post_feed,
        )
        return Post.from_row(post)

    @strawberry.mutation(
        description="Change a post (its author or an admin).", permission_classes=[IsAuthenticated]
    )
    async def update_post(self, info: Info, id: strawberry.ID, input: UpdatePostInput) -> Post:
        post = await service.update_post(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "Post"),
            input.to_changes(),
            events=info.context.state.post_feed,
        )
        return Post.from_row(post)

    @strawberry.mutation(
        description="Publish a draft (its author or an admin).",
        permission_classes=[IsAuthenticated],
    )
    async def publish_post(self, info: Info, id: strawberry.ID) -> Post:
        post = await service.publish_post(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "Post"),
            events=info.context.state.post_feed,
        )
        return Post.from_row(post)

    @strawberry.mutation(
        description="Make a post a draft again (its author or an admin).",
        permission_classes=[IsAuthenticated],
    )
    async def unpublish_post(self, info: Info, id: strawberry.ID) -> Post:
        post = await service.unpublish_post(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "Post"),
            events=info.context.state.post_feed,
        )
        return Post.from_row(post)

    @strawberry.mutation(
        description="Delete a post and its comments (its author or an admin).",
        permission_classes=[IsAuthenticated],
    )
    async def delete_post(self, info: Info, id: strawberry.ID) -> bool:
        return await service.delete_post(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "Post"),
            events=info.context.state.post_feed,
        )

    @strawberry.mutation(
        description="Publish a draft at `publishAt` (its author or an admin): a future time, "
        "at most a year ahead. It goes live within seconds of it.",
        permission_classes=[IsAuthenticated],
    )
    async def schedule_post(self, info: Info, id: strawberry.ID, publish_at: datetime) -> Post:
        post = await scheduling.schedule_post(
            info.context.db, signed_in_user(info), decode_id(id, "Post"), publish_at
        )
        return Post.from_row(post)

    @strawberry.mutation(
        description="A scheduled post back to a plain draft (its author or an admin).",
        permission_classes=[IsAuthenticated],
    )
    async def unschedule_post(self, info: Info, id: strawberry.ID) -> Post:
        post = await scheduling.unschedule_post(
            info.context.db, signed_in_user(info), decode_id(id, "Post")
        )
        return Post.from_row(post)

    @strawberry.mutation(
        description="Bring a post back to a revision's title and content; the version it "
        "replaces becomes a revision in turn (its author or an admin).",
        permission_classes=[IsAuthenticated],
    )
    async def restore_post_revision(self, info: Info, id: strawberry.ID) -> Post:
        post = await service.restore_revision(
            info.context.db,
            signed_in_user(info),
            decode_id(id, "PostRevision"),
            events=info.context.state.post_feed,
        )
        return Post.from_row(post)

    @strawberry.mutation(
        description="A 7-day preview link of a draft or scheduled post (its author or an admin).",
        permission_classes=[IsAuthenticated],
    )
    async def create_preview_link(self, info: Info, post_id: strawberry.ID) -> PreviewLink:
        settings = info.context.settings
        link = await previews.create_preview_link(
            info.context.db,
            signed_in_user(info),
            decode_id(post_id, "Post", "postId"),
            secret_key=settings.secret_key,
            public_url=settings.public_url,
        )
        return PreviewLink(url=link.url, token=link.token, expires_at=link.expires_at)

    @strawberry.mutation(
        description="Revoke every live preview link of a post; how many there were.",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_preview_links(self, info: Info, post_id: strawberry.ID) -> int:
        return await previews.revoke_preview_links(
            info.context.db, signed_in_user(info), decode_id(post_id, "Post", "postId")
        )
