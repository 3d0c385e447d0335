"""The keys that decide which live subscribers share an execution: exact, or no sharing.

The live tests (`tests/live/test_shared_execution.py`) show the sharing end to end; these
pin down the two judgements it rests on, over the real schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from blog_graphql.accounts.types import User
from blog_graphql.comments.types import Comment
from blog_graphql.engine._compat import core_schema
from blog_graphql.engine.shared_events import value_key
from blog_graphql.engine.viewer_fields import ViewerDependence
from blog_graphql.schema import build_schema

SAME_FOR_EVERYONE = [
    "subscription($p: ID!) { commentAdded(postId: $p) { id content author { username } } }",
    "subscription($p: ID!) { commentEvents(postId: $p) { __typename kind commentId "
    "comment { id isApproved isDeleted createdAt author { id fullName } } } }",
    "subscription { commentModeration { kind comment { content } } }",
    "subscription($p: ID!) { commentAdded(postId: $p) { ...Parts } } "
    "fragment Parts on Comment { id ... on Node { id } }",
]
PER_VIEWER = [
    # An email shows to its owner and admins.
    "subscription($p: ID!) { commentAdded(postId: $p) { author { email } } }",
    # The post, the parent and the replies are read through the viewer's visibility rules.
    "subscription($p: ID!) { commentAdded(postId: $p) { post { title } } }",
    "subscription($p: ID!) { commentAdded(postId: $p) { parent { id } } }",
    "subscription($p: ID!) { commentEvents(postId: $p) { comment { replies { totalCount } } } }",
    # Behind a fragment, or a field skipped by a directive: still counted.
    "subscription($p: ID!) { commentAdded(postId: $p) { ...A } } "
    "fragment A on Comment { author { ...B } } fragment B on User { email }",
    "subscription($p: ID!) { commentAdded(postId: $p) { author { email @skip(if: true) } } }",
]


def selects_viewer_fields(document: str) -> bool:
    schema = core_schema(build_schema())
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return ViewerDependence().of(schema, operation, fragments)


@pytest.mark.parametrize("document", SAME_FOR_EVERYONE)
def test_documents_of_fields_that_read_the_event_alone_are_shared_by_every_viewer(document):
    assert not selects_viewer_fields(document)


@pytest.mark.parametrize("document", PER_VIEWER)
def test_a_field_that_may_answer_per_viewer_keeps_viewers_apart(document):
    assert selects_viewer_fields(document)


def comment(**changes: object) -> Comment:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    author = User(
        pk=2, private_email="bob@example.com", email_shown=False, username="bob",
        full_name=None, bio=None, is_active=True, is_admin=False, email_verified=True,
        created_at=when,
    )  # fmt: skip
    fields: dict[str, object] = {
        "pk": 1, "post_id": 1, "author_id": 2, "parent_id": None, "content": "hi",
        "is_approved": True, "is_deleted": False, "created_at": when, "updated_at": when,
        "prefetched_author": author,
    }  # fmt: skip
    return Comment(**{**fields, **changes})  # type: ignore[arg-type]


def test_payloads_that_read_alike_have_one_key_and_any_difference_parts_them():
    assert value_key(comment()) == value_key(comment())
    assert value_key(comment()) != value_key(comment(is_approved=False))
    assert value_key(comment()) != value_key(comment(prefetched_author=None))  # private too
    same_instant = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert value_key(comment()) != value_key(comment(created_at=same_instant))  # written apart
    assert value_key(0.0) != value_key(-0.0)
    assert value_key(1) != value_key(True)


def test_objects_of_no_known_shape_are_keyed_by_identity():
    row, other = object(), object()
    assert value_key(row) == value_key(row)
    assert value_key(row) != value_key(other)
