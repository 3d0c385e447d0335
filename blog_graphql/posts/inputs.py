"""GraphQL inputs of the post operations."""

from __future__ import annotations

import strawberry

from blog_graphql.posts import queries, service
from blog_graphql.posts.seo import UNSET, SeoChanges, SeoValue
from blog_graphql.relay.ids import decode_id


@strawberry.input(description="Narrows `posts`; every given condition must hold.")
class PostFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Full text over title and content, ranked (title matches first). Web "
        'search syntax: words, "quoted phrases", `or`, `-excluded`.',
    )
    tag: str | None = strawberry.field(
        default=None, description="A tag's slug or name, ignoring case."
    )
    author: str | None = strawberry.field(default=None, description="A username, ignoring case.")
    published: bool | None = strawberry.field(
        default=None, description="Only published posts, or only (visible) drafts."
    )

    def to_filter(self) -> queries.PostFilter:
        return queries.PostFilter(
            search=self.search, tag=self.tag, author=self.author, published=self.published
        )


@strawberry.input(description="A new post; a draft unless `published` is true.")
class CreatePostInput:
    title: str = strawberry.field(description="1 to 200 characters; the slug comes from it.")
    content: str = strawberry.field(description="Markdown, up to 100,000 characters.")
    excerpt: str | None = strawberry.field(
        default=None, description="Up to 500 characters; by default the content's start."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Up to 10 tag names; new ones are created, case ignored."
    )
    published: bool | None = False
    seo_title: str | None = strawberry.field(
        default=None, description="Up to 200 characters; by default `seo.title` is the title."
    )
    seo_description: str | None = strawberry.field(
        default=None,
        description="Up to 500 characters; by default `seo.description` is the excerpt.",
    )
    canonical_url: str | None = strawberry.field(
        default=None,
        description="An absolute http(s) URL; by default the post's public page.",
    )
    cover_image_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of your images (`uploadImage`) as the post's cover."
    )

    def to_new_post(self) -> service.NewPost:
        return service.NewPost(
            title=self.title,
            content=self.content,
            excerpt=self.excerpt,
            tags=self.tags or [],
            published=bool(self.published),
            seo=SeoChanges(self.seo_title, self.seo_description, self.canonical_url),
            cover_image_id=_image_pk(self.cover_image_id),
        )


@strawberry.input(description="Changes to a post; omitted fields stay as they are.")
class UpdatePostInput:
    title: str | None = strawberry.field(
        default=None, description="The slug follows the title only until first published."
    )
    content: str | None = None
    excerpt: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An explicit null (or empty text) goes back to the automatic excerpt.",
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Replaces every tag; an empty list removes them all."
    )
    seo_title: str | None = strawberry.field(
        default=strawberry.UNSET, description="An explicit null (or empty text) clears it."
    )
    seo_description: str | None = strawberry.field(
        default=strawberry.UNSET, description="An explicit null (or empty text) clears it."
    )
    canonical_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="An explicit null (or empty text) clears it."
    )

    cover_image_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="One of your images (or the author's) as the cover; null removes it.",
    )

    def to_changes(self) -> service.PostChanges:
        return service.PostChanges(
            title=self.title,
            content=self.content,
            excerpt=service.KEEP if self.excerpt is strawberry.UNSET else self.excerpt,
            tags=self.tags,
            seo=SeoChanges(
                _given(self.seo_title), _given(self.seo_description), _given(self.canonical_url)
            ),
            cover_image_id=(
                service.KEEP
                if self.cover_image_id is strawberry.UNSET
                else _image_pk(self.cover_image_id)
            ),
        )


def _given(value: str | None) -> SeoValue:
    return UNSET if value is strawberry.UNSET else value


def _image_pk(global_id: str | None) -> int | None:
    return None if global_id is None else decode_id(global_id, "Image", "coverImageId")
