"""Fields collected once per operation: a repeated query reuses them, unless a directive
lets its variables change what is collected."""

import pytest
from graphql.execution import executor
from graphql.execution.collect_fields import collect_fields, collect_subfields

from blog_graphql.engine import planned_execution
from tests.conftest import graphql
from tests.performance.world import bench_queries, build_world


@pytest.fixture
def collections(monkeypatch):
    """How many selection sets graphql-core collects: the root's and every sub-selection's."""
    counted = {"count": 0}

    def counting(collect):
        def collect_and_count(*args, **kwargs):
            counted["count"] += 1
            return collect(*args, **kwargs)

        return collect_and_count

    # Where graphql-core's executor and the planned run look the two functions up.
    monkeypatch.setattr(executor, "collect_subfields", counting(collect_subfields))
    monkeypatch.setattr(planned_execution, "collect_fields", counting(collect_fields))
    return counted


async def test_a_repeated_query_collects_its_fields_once(client, db, collections):
    world = await build_world(db)
    for name, query in bench_queries().items():
        first = await graphql(client, query, world.variables())
        collected_first = collections["count"]
        again = await graphql(client, query, world.variables())
        assert again == first and "errors" not in first, name
        assert collected_first > 0 and collections["count"] == collected_first, name
        collections["count"] = 0


# Each switches `title` on with `$on`, and `slug` off.
SWITCHED = {
    "field": "post(slug: $slug) { title @include(if: $on) slug @skip(if: $on) }",
    "fragment": "post(slug: $slug) { ...Title slug @skip(if: $on) }",
    "fragment spread": "post(slug: $slug) { ...Title @include(if: $on) ...Slug @skip(if: $on) }",
    "inline fragment": (
        "post(slug: $slug) { ... @include(if: $on) { title } ... @skip(if: $on) { slug } }"
    ),
}
FRAGMENTS = {
    "fragment": "fragment Title on Post { title @include(if: $on) }",
    "fragment spread": "fragment Title on Post { title } fragment Slug on Post { slug }",
}


@pytest.mark.parametrize("where", list(SWITCHED))
async def test_a_query_whose_variables_switch_fields_collects_them_each_time(
    client, db, collections, where
):
    world = await build_world(db)
    query = (
        f"query($on: Boolean!, $slug: String!) {{ {SWITCHED[where]} }} {FRAGMENTS.get(where, '')}"
    )
    slug = world.variables()["slug"]
    for on in (True, False, True):
        collections["count"] = 0
        body = await graphql(client, query, {"on": on, "slug": slug})
        assert set(body["data"]["post"]) == ({"title"} if on else {"slug"}), body
        assert collections["count"] > 0
