"""The real comment subscriptions on a real uvicorn, in-process (no REDIS_URL): who hears
what, drafts, pre-moderation, edits and deletions, and nothing from a rolled-back write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from blog_graphql.comments.events import MODERATION_CHANNEL
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import LEGACY_WS, PROTOCOLS, graphql_socket
from tests.live.comments import (
    COMMENT_ADDED,
    COMMENT_EVENTS,
    COMMENT_MODERATION,
    DELETE_COMMENT,
    DELETE_POST,
    MODERATE_COMMENT,
    UNPUBLISH_POST,
    UPDATE_COMMENT,
    add_comment,
    call,
    data,
    error_codes,
    listening,
    post_id,
    receive_ending,
    watch_post,
)


async def token(db, settings, user) -> str:
    return (await auth_headers(db, settings, user))["Authorization"]


@pytest.fixture
async def people(db, settings):
    """ada writes posts, bob comments, root moderates: each with a token."""
    ada = await create_user(db, username="ada")
    bob = await create_user(db, username="bob")
    root = await create_user(db, username="root", is_admin=True)
    return {user.username: (user, await token(db, settings, user)) for user in (ada, bob, root)}


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("viewer", [None, "bob"])
async def test_a_new_comment_reaches_anonymous_and_signed_in_subscribers(
    serve, db, people, protocol, viewer
):
    post = await create_post(db, author=people["ada"][0])
    with serve() as server:
        async with graphql_socket(server.ws_url, protocol) as socket:
            await socket.init({"Authorization": people[viewer][1]} if viewer else None)
            await watch_post(socket, server, post)
            comment_id = add_comment(server, people["bob"][1], post, "First!")
            received = await socket.next_data("1")
    assert received == {
        "commentAdded": {
            "id": comment_id,
            "content": "First!",
            "isApproved": True,
            "author": {"username": "bob"},
        }
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_draft_is_not_found_to_others_and_watched_by_its_author_and_admins(
    serve, db, people, protocol
):
    draft = await create_post(db, author=people["ada"][0], published=False)
    with serve() as server:
        for outsider in (None, people["bob"][1]):
            async with graphql_socket(server.ws_url, protocol) as socket:
                await socket.init({"Authorization": outsider} if outsider else None)
                await socket.subscribe("1", COMMENT_ADDED, post=post_id(draft))
                assert error_codes(await socket.receive()) == ["NOT_FOUND"]
        async with (
            graphql_socket(server.ws_url, protocol) as author,
            graphql_socket(server.ws_url, protocol) as admin,
        ):
            await author.init({"Authorization": people["ada"][1]})
            await admin.init({"Authorization": people["root"][1]})
            await watch_post(author, server, draft)
            await watch_post(admin, server, draft, listeners=2)
            add_comment(server, people["ada"][1], draft, "Note to self")
            for socket in (author, admin):
                assert (await socket.next_data("1"))["commentAdded"]["content"] == "Note to self"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("query", [COMMENT_ADDED, COMMENT_EVENTS])
@pytest.mark.parametrize("hiding", [UNPUBLISH_POST, DELETE_POST])
async def test_subscriptions_end_with_not_found_when_the_post_is_hidden_from_their_viewer(
    serve, db, people, protocol, query, hiding
):
    """Unpublished or deleted: the anonymous and signed-in readers' subscriptions end with
    NOT_FOUND and hear nothing more (their sockets live on); the author's goes on."""
    ada, bob = people["ada"][1], people["bob"][1]
    post = await create_post(db, author=people["ada"][0])
    other = await create_post(db, author=people["ada"][0])
    with serve() as server:
        async with (
            graphql_socket(server.ws_url, protocol) as anonymous,
            graphql_socket(server.ws_url, protocol) as signed_in,
            graphql_socket(server.ws_url, protocol) as author,
        ):
            await anonymous.init()
            await signed_in.init({"Authorization": bob})
            await author.init({"Authorization": ada})
            for count, socket in enumerate((anonymous, signed_in, author), start=1):
                await watch_post(socket, server, post, query=query, listeners=count)
                await watch_post(socket, server, other, op_id="2", listeners=count)
            data(call(server, hiding, ada, id=post_id(post)))
            endings = [await receive_ending(socket, "1") for socket in (anonymous, signed_in)]
            if hiding == UNPUBLISH_POST:  # the author still reads the draft, and hears it
                add_comment(server, ada, post, "on the draft")
                heard_by_author = await author.next_data("1")
                assert "on the draft" in str(heard_by_author)
            add_comment(server, bob, other, "elsewhere")
            next_heard = [await socket.next_data("2") for socket in (anonymous, signed_in)]
            still_answers = data(call(server, "{ posts { totalCount } }"))
    assert endings == [["NOT_FOUND"], ["NOT_FOUND"]]
    # The next thing each reader heard is the other post's comment: nothing of the draft.
    assert [heard["commentAdded"]["content"] for heard in next_heard] == ["elsewhere"] * 2
    assert still_answers == {"posts": {"totalCount": 1}}


@pytest.mark.parametrize(
    ("post", "code"), [("not an id", "BAD_USER_INPUT"), ("VXNlcjox", "NOT_FOUND")]
)
async def test_a_bad_post_id_is_refused_with_the_queries_codes(serve, post, code):
    """A malformed id, and a well-formed one of a User, as the queries answer them."""
    with serve() as server:
        async with graphql_socket(server.ws_url) as socket:
            await socket.init()
            await socket.subscribe("1", COMMENT_ADDED, post=post)
            assert error_codes(await socket.receive()) == [code]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_pre_moderation_holds_comments_until_approved_and_moderators_see_them_wait(
    serve, db, people, protocol
):
    post = await create_post(db, author=people["ada"][0])
    bob, root = people["bob"][1], people["root"][1]
    with serve(COMMENT_MODERATION="pre") as server:
        async with (
            graphql_socket(server.ws_url, protocol) as reader,
            graphql_socket(server.ws_url, protocol) as moderator,
        ):
            await reader.init()
            await moderator.init({"Authorization": root})
            await watch_post(reader, server, post)
            await moderator.subscribe("m", COMMENT_MODERATION)
            await listening(server, MODERATION_CHANNEL, 1)
            held = add_comment(server, bob, post, "held")
            later = add_comment(server, bob, post, "approved first")
            waiting = [(await moderator.next_data("m"))["commentModeration"] for _ in range(2)]
            data(call(server, MODERATE_COMMENT, root, id=later, approved=True))
            first_heard = (await reader.next_data("1"))["commentAdded"]
            data(call(server, MODERATE_COMMENT, root, id=held, approved=True))
            then_heard = (await reader.next_data("1"))["commentAdded"]
            moderated = [(await moderator.next_data("m"))["commentModeration"] for _ in range(2)]
    assert [(event["kind"], event["commentId"]) for event in waiting] == [
        ("ADDED", held),
        ("ADDED", later),
    ]
    assert all(event["comment"]["isApproved"] is False for event in waiting)
    # Nothing reached the reader while both waited: the first it hears is the first approved.
    assert (first_heard["id"], then_heard["id"]) == (later, held)
    assert [(event["kind"], event["commentId"]) for event in moderated] == [
        ("APPROVED", later),
        ("APPROVED", held),
    ]


@pytest.mark.parametrize("who", [None, "bob"])
async def test_the_moderation_subscription_is_for_admins(serve, people, who):
    with serve() as server:
        async with graphql_socket(server.ws_url, LEGACY_WS) as socket:
            await socket.init({"Authorization": people[who][1]} if who else None)
            await socket.subscribe("1", COMMENT_MODERATION)
            refused = await socket.receive()
    assert error_codes(refused) == ["FORBIDDEN" if who else "UNAUTHENTICATED"]


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """Each event as (kind, id, content or None when it comes without its comment)."""
    return [
        (e["kind"], e["commentId"], e["comment"]["content"] if e["comment"] else None)
        for e in events
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_comment_events_carry_edits_hides_and_deletions_as_each_viewer_may_see_them(
    serve, db, people, protocol
):
    post = await create_post(db, author=people["ada"][0])
    bob, root = people["bob"][1], people["root"][1]
    with serve() as server:
        async with (
            graphql_socket(server.ws_url, protocol) as anonymous,
            graphql_socket(server.ws_url, protocol) as author,
        ):
            await anonymous.init()
            await author.init({"Authorization": bob})
            await watch_post(anonymous, server, post, query=COMMENT_EVENTS)
            await watch_post(author, server, post, query=COMMENT_EVENTS, listeners=2)
            parent = add_comment(server, bob, post, "parent")
            reply = add_comment(server, bob, post, "reply", parent=parent)
            data(call(server, UPDATE_COMMENT, bob, id=parent, content="parent, edited"))
            data(call(server, DELETE_COMMENT, bob, id=parent))  # a tombstone: it has a reply
            data(call(server, MODERATE_COMMENT, root, id=reply, approved=False))
            data(call(server, DELETE_COMMENT, bob, id=reply))  # then the bare tombstone goes
            heard_by = {}
            for name, socket, count in (("anonymous", anonymous, 6), ("author", author, 7)):
                events = [await socket.next_data("1") for _ in range(count)]
                heard_by[name] = kinds([event["commentEvents"] for event in events])
    common = [
        ("ADDED", parent, "parent"),
        ("ADDED", reply, "reply"),
        ("EDITED", parent, "parent, edited"),
        ("DELETED", parent, ""),  # the tombstone, empty
    ]
    # The anonymous reader loses sight of the hidden reply, so it never hears it deleted.
    assert heard_by["anonymous"] == [*common, ("HIDDEN", reply, None), ("DELETED", parent, None)]
    assert heard_by["author"] == [
        *common,
        ("HIDDEN", reply, "reply"),
        ("DELETED", reply, None),
        ("DELETED", parent, None),
    ]


ADD_DOOMED = 'mutation($post: ID!) { addComment(input: {postId: $post, content: "doomed"}) { id } }'
COUNT = "query($slug: String!) { post(slug: $slug) { commentCount } }"
# The comment's notification to the post's author is written in the comment's own
# transaction: refusing it rolls the comment back after its event was registered.
DOOMED = "(SELECT content FROM comments WHERE id = NEW.comment_id) = 'doomed'"
ROLLBACK_TRIGGER = {
    "sqlite": [
        f"CREATE TRIGGER refuse_doomed BEFORE INSERT ON notifications WHEN {DOOMED} "
        "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {DOOMED} THEN RAISE EXCEPTION 'forced failure'; "
        "END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse_doomed BEFORE INSERT ON notifications "
        "FOR EACH ROW EXECUTE FUNCTION refuse_doomed()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER refuse_doomed"],
    "postgresql": [
        "DROP TRIGGER refuse_doomed ON notifications",
        "DROP FUNCTION refuse_doomed()",
    ],
}


async def run_sql(db, statements: list[str]) -> None:
    async with db.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


async def test_a_comment_rolled_back_after_it_was_announced_is_never_delivered(serve, db, people):
    """The database refuses the comment's notification as the transaction commits, after
    the comment was written and its event registered: the event must die with it."""
    post = await create_post(db, author=people["ada"][0])
    await run_sql(db, ROLLBACK_TRIGGER[db.dialect])
    try:
        with serve() as server:
            async with graphql_socket(server.ws_url) as socket:
                await socket.init()
                await watch_post(socket, server, post, query=COMMENT_EVENTS)
                refused = call(server, ADD_DOOMED, people["bob"][1], post=post_id(post))
                kept = add_comment(server, people["bob"][1], post, "kept")
                first = (await socket.next_data("1"))["commentEvents"]
                count = data(call(server, COUNT, slug=post.slug))["post"]["commentCount"]
    finally:
        await run_sql(db, DROP_TRIGGER[db.dialect])
    assert refused["data"] is None and refused["errors"]
    assert (first["kind"], first["commentId"]) == ("ADDED", kept)
    assert count == 1
