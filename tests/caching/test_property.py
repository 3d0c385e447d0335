"""The property: whatever the writes, a cached answer equals the uncached one.

Random mutations (posts created, published, unpublished, retagged, renamed, deleted;
comments added, replied to, edited, hidden, shown, deleted; profiles changed), each
made on one of two cached instances over one database (sharing Redis when the run has
it), each followed by every bench-like read on both instances, compared byte for byte
with an instance that caches nothing. The world carries over from one example to the
next, so later examples write into a fuller blog.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.caching import world as w
from tests.caching.conftest import Factory, Instance, listening

WRITERS = ("ada", "bob")
tags = st.lists(st.sampled_from(w.TAG_NAMES), max_size=2, unique=True)
pick = st.integers(min_value=0, max_value=50)
STEPS = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(WRITERS), tags, st.booleans()),
    st.tuples(st.just("publish"), pick),
    st.tuples(st.just("unpublish"), pick),
    st.tuples(st.just("retag"), pick, tags),
    st.tuples(st.just("rename"), pick),
    st.tuples(st.just("delete"), pick),
    st.tuples(st.just("comment"), st.sampled_from(WRITERS), pick, st.booleans()),
    st.tuples(st.just("edit_comment"), pick),
    st.tuples(st.just("moderate"), pick, st.booleans()),
    st.tuples(st.just("delete_comment"), pick),
    st.tuples(st.just("profile"), st.sampled_from(WRITERS), st.text("abc ", max_size=6)),
)


class Blog:
    def __init__(self, world: w.World) -> None:
        self.world = world
        self.authors: dict[int, str] = {}
        self.next_handle = 1

    def post(self, n: int) -> int | None:
        handles = sorted(self.world.posts)
        return handles[n % len(handles)] if handles else None

    def comment(self, n: int) -> int | None:
        handles = sorted(self.world.comments)
        return handles[n % len(handles)] if handles else None

    async def apply(self, on: Instance, step: tuple[Any, ...]) -> None:
        kind, *args = step
        world, handle = self.world, self.next_handle
        self.next_handle += 1
        if kind == "create":
            who, names, published = args
            await w.create_post(on, world, who, handle, tags=names, published=published)
            self.authors[handle] = who
            return
        if kind == "profile":
            who, text = args
            await self.call(on, who, w.UPDATE_ME, input={"fullName": text or None, "bio": text})
            return
        if kind == "comment":
            who, n, reply = args
            post, parent = self.post(n), self.comment(n) if reply else None
            if post is not None:
                await self.add_comment(on, who, handle, post, parent)
            return
        if kind in ("edit_comment", "moderate", "delete_comment"):
            await self.change_comment(on, kind, args)
            return
        await self.change_post(on, kind, args)

    async def add_comment(
        self, on: Instance, who: str, handle: int, post: int, parent: int | None
    ) -> None:
        given = {"postId": self.world.posts[post], "content": f"Comment {handle}"}
        if parent is not None:
            given["parentId"] = self.world.comments[parent][0]
        body = await self.call(on, who, w.COMMENT, input=given)
        if body.get("data"):
            self.world.comments[handle] = (body["data"]["addComment"]["id"], who)

    async def change_comment(self, on: Instance, kind: str, args: list[Any]) -> None:
        handle = self.comment(args[0])
        if handle is None:
            return
        comment_id, who = self.world.comments[handle]
        if kind == "edit_comment":
            await self.call(on, who, w.EDIT_COMMENT, id=comment_id, c=f"Edited {handle}")
        elif kind == "moderate":
            await self.call(on, "root", w.MODERATE, id=comment_id, a=args[1])
        else:
            await self.call(on, who, w.DELETE_COMMENT, id=comment_id)

    async def change_post(self, on: Instance, kind: str, args: list[Any]) -> None:
        handle = self.post(args[0])
        if handle is None:
            return
        who, post_id = self.authors.get(handle, "ada"), self.world.posts[handle]
        if kind == "publish":
            body = await self.call(on, who, w.PUBLISH, id=post_id)
            if body.get("data"):
                self.world.slugs[handle] = body["data"]["publishPost"]["slug"]
        elif kind == "unpublish":
            await self.call(on, who, w.UNPUBLISH, id=post_id)
        elif kind == "retag":
            await self.call(on, who, w.UPDATE, id=post_id, input={"tags": args[1]})
        elif kind == "rename":
            await self.call(on, who, w.UPDATE, id=post_id, input={"title": f"Renamed {handle}"})
        else:
            await self.call(on, who, w.DELETE, id=post_id)

    async def call(self, on: Instance, who: str, query: str, **variables: Any) -> Any:
        # A write may be refused (a deleted post, someone else's comment): that is a step too.
        return await on.data(query, variables, headers=self.world.headers[who])


async def assert_all_fresh(instances: list[Instance], reference: Instance, world: w.World) -> None:
    for query, variables in w.reads(world):
        truth = (await reference.post(query, variables)).content
        for instance in instances:
            answer = await instance.post(query, variables)
            assert answer.content == truth, (query, variables, answer.text, truth)


@pytest.fixture
async def scene(make_instance: Factory, db, settings) -> tuple[list[Instance], Instance, Blog]:
    """Made once for all the examples of the test: the world grows from one to the next."""
    instances = [await listening(make_instance()), await listening(make_instance())]
    reference = make_instance(response_cache_enabled=False)
    return instances, reference, Blog(await w.World.create(db, settings))


@hypothesis_settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.tuples(st.integers(0, 1), STEPS), min_size=3, max_size=7))
async def test_cached_answers_always_equal_uncached_ones(
    scene: tuple[list[Instance], Instance, Blog], steps: list[tuple[int, tuple[Any, ...]]]
) -> None:
    instances, reference, blog = scene
    for writer, step in steps:
        await blog.apply(instances[writer], step)
        await assert_all_fresh(instances, reference, blog.world)
