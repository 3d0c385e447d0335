"""The real post subscriptions on a real uvicorn, in-process (no REDIS_URL): each kind of
post event, who hears what, how a subscription ends, `postPublished`, and nothing from a
rolled-back change."""

from __future__ import annotations

import pytest

from blog_graphql.posts.events import post_channel
from tests.factories import auth_headers, create_post, create_user
from tests.live.clients import PROTOCOLS, graphql_socket
from tests.live.comments import (
    DELETE_COMMENT,
    DELETE_POST,
    MODERATE_COMMENT,
    UNPUBLISH_POST,
    UPDATE_COMMENT,
    add_comment,
    call,
    error_codes,
    listening,
    post_id,
    receive_ending,
)
from tests.live.posts import (
    POST_EVENTS,
    PUBLISH_POST,
    UPDATE_POST,
    mutate,
    next_event,
    watch_post_events,
    watch_publications,
)
from tests.live.posts import create_post as create_post_live
from tests.live.test_comment_subscriptions import run_sql
from tests.live.test_js_client import NodeSubscriber


@pytest.fixture
async def people(db, settings):
    """ada writes posts, bob reads and comments, root is an admin: each with a token."""
    ada = await create_user(db, username="ada")
    bob = await create_user(db, username="bob")
    root = await create_user(db, username="root", is_admin=True)
    users = (ada, bob, root)
    return {user.username: (user, (await auth_headers(db, settings, user))["Authorization"])
            for user in users}  # fmt: skip


def init_payload(people, who: str | None):
    return {"Authorization": people[who][1]} if who else None


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_update_reaches_every_reader_as_updated_with_the_post_as_it_is_now(
    serve, db, people, protocol
):
    post = await create_post(db, author=people["ada"][0], title="Before")
    with serve() as server:
        async with (
            graphql_socket(server.ws_url, protocol) as anonymous,
            graphql_socket(server.ws_url, protocol) as reader,
            graphql_socket(server.ws_url, protocol) as author,
        ):
            sockets = {"anonymous": anonymous, "bob": reader, "ada": author}
            for count, (who, socket) in enumerate(sockets.items(), start=1):
                await socket.init(init_payload(people, who if who != "anonymous" else None))
                await watch_post_events(socket, server, post, listeners=count)
            mutate(server, UPDATE_POST, people["ada"][1], id=post_id(post), title="After")
            heard = {who: await next_event(socket) for who, socket in sockets.items()}
    expected = {"id": post_id(post), "title": "After", "published": True, "commentCount": 0}
    assert heard == {who: ("UPDATED", expected) for who in sockets}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unpublishing_ends_the_readers_subscriptions_and_keeps_the_author_and_admins(
    serve, db, people, protocol
):
    """Readers get UNPUBLISHED without the post, then NOT_FOUND, and nothing more (their
    next message is a postPublished of the republication); the author and admins get the
    draft, and UPDATED when it is published again."""
    post = await create_post(db, author=people["ada"][0], title="Watched")
    ada = people["ada"][1]
    with serve() as server:
        async with (
            graphql_socket(server.ws_url, protocol) as anonymous,
            graphql_socket(server.ws_url, protocol) as reader,
            graphql_socket(server.ws_url, protocol) as author,
            graphql_socket(server.ws_url, protocol) as admin,
        ):
            readers = {"anonymous": anonymous, "bob": reader}
            keepers = {"ada": author, "root": admin}
            everyone = {**readers, **keepers}
            for count, (who, socket) in enumerate(everyone.items(), start=1):
                await socket.init(init_payload(people, who if who != "anonymous" else None))
                await watch_post_events(socket, server, post, listeners=count)
            for count, socket in enumerate(readers.values(), start=1):
                await watch_publications(socket, server, listeners=count)
            mutate(server, UNPUBLISH_POST, ada, id=post_id(post))
            gone = {who: await next_event(socket) for who, socket in readers.items()}
            endings = {who: await receive_ending(socket, "1") for who, socket in readers.items()}
            kept = {who: await next_event(socket) for who, socket in keepers.items()}
            mutate(server, PUBLISH_POST, ada, id=post_id(post))
            back = {who: await next_event(socket) for who, socket in keepers.items()}
            after = {who: (await socket.receive())["id"] for who, socket in readers.items()}
    assert gone == {"anonymous": ("UNPUBLISHED", None), "bob": ("UNPUBLISHED", None)}
    assert endings == {"anonymous": ["NOT_FOUND"], "bob": ["NOT_FOUND"]}
    draft = {"id": post_id(post), "title": "Watched", "published": False, "commentCount": 0}
    assert kept == {"ada": ("UNPUBLISHED", draft), "root": ("UNPUBLISHED", draft)}
    republished = {**draft, "published": True}
    assert back == {"ada": ("UPDATED", republished), "root": ("UPDATED", republished)}
    assert after == {"anonymous": "p", "bob": "p"}  # nothing more on the ended operation


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_deleting_sends_deleted_without_the_post_then_not_found_to_everyone(
    serve, db, people, protocol
):
    post = await create_post(db, author=people["ada"][0])
    with serve() as server:
        async with (
            graphql_socket(server.ws_url, protocol) as anonymous,
            graphql_socket(server.ws_url, protocol) as author,
            graphql_socket(server.ws_url, protocol) as admin,
        ):
            sockets = {"anonymous": anonymous, "ada": author, "root": admin}
            for count, (who, socket) in enumerate(sockets.items(), start=1):
                await socket.init(init_payload(people, who if who != "anonymous" else None))
                await watch_post_events(socket, server, post, listeners=count)
            mutate(server, DELETE_POST, people["root"][1], id=post_id(post))
            heard = {
                who: (await next_event(socket), await receive_ending(socket, "1"))
                for who, socket in sockets.items()
            }
    assert heard == {who: (("DELETED", None), ["NOT_FOUND"]) for who in sockets}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_post_the_viewer_may_not_read_is_not_found(serve, db, people, protocol):
    draft = await create_post(db, author=people["ada"][0], published=False)
    with serve() as server:
        refused = {}
        for who in (None, "bob"):
            async with graphql_socket(server.ws_url, protocol) as socket:
                await socket.init(init_payload(people, who))
                await socket.subscribe("1", POST_EVENTS, post=post_id(draft))
                refused[who] = error_codes(await socket.receive())
            async with graphql_socket(server.ws_url, protocol) as socket:
                await socket.init(init_payload(people, who))
                await socket.subscribe("1", POST_EVENTS, post="not an id")
                refused[f"{who} with a bad id"] = error_codes(await socket.receive())
    assert refused == {
        None: ["NOT_FOUND"],
        "bob": ["NOT_FOUND"],
        "None with a bad id": ["BAD_USER_INPUT"],
        "bob with a bad id": ["BAD_USER_INPUT"],
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_comment_count_events_follow_the_count_each_viewer_sees(serve, db, people, protocol):
    """Under pre-moderation a waiting comment counts for its author and admins only: they
    hear of it when written, the others when approved; a deletion moves every count."""
    post = await create_post(db, author=people["ada"][0])
    bob, root = people["bob"][1], people["root"][1]
    with serve(COMMENT_MODERATION="pre") as server:
        async with (
            graphql_socket(server.ws_url, protocol) as anonymous,
            graphql_socket(server.ws_url, protocol) as post_author,
            graphql_socket(server.ws_url, protocol) as commenter,
            graphql_socket(server.ws_url, protocol) as admin,
        ):
            sockets = {"anonymous": anonymous, "ada": post_author, "bob": commenter,
                       "root": admin}  # fmt: skip
            for count, (who, socket) in enumerate(sockets.items(), start=1):
                await socket.init(init_payload(people, who if who != "anonymous" else None))
                await watch_post_events(socket, server, post, listeners=count)
            comment = add_comment(server, bob, post, "waiting")
            mutate(server, UPDATE_COMMENT, bob, id=comment, content="still waiting")  # no count
            mutate(server, MODERATE_COMMENT, root, id=comment, approved=True)
            mutate(server, DELETE_COMMENT, bob, id=comment)
            heard = {
                who: [await next_event(socket) for _ in range(2)] for who, socket in sockets.items()
            }
    counts = {who: [(kind, post["commentCount"]) for kind, post in events]
              for who, events in heard.items()}  # fmt: skip
    # Each one's first event is when the comment became visible to them; then its deletion.
    assert counts == {who: [("COMMENT_COUNT", 1), ("COMMENT_COUNT", 0)] for who in sockets}


async def test_a_hidden_comment_moves_the_readers_count_but_not_its_authors(serve, db, people):
    post = await create_post(db, author=people["ada"][0])
    bob, root = people["bob"][1], people["root"][1]
    with serve() as server:
        async with (
            graphql_socket(server.ws_url) as anonymous,
            graphql_socket(server.ws_url) as commenter,
        ):
            await anonymous.init()
            await commenter.init(init_payload(people, "bob"))
            await watch_post_events(anonymous, server, post)
            await watch_post_events(commenter, server, post, listeners=2)
            comment = add_comment(server, bob, post, "soon hidden")
            mutate(server, MODERATE_COMMENT, root, id=comment, approved=False)
            mutate(server, UPDATE_POST, people["ada"][1], id=post_id(post), title="Edited")
            heard = {
                who: [await next_event(socket) for _ in range(3 if who == "anonymous" else 2)]
                for who, socket in (("anonymous", anonymous), ("bob", commenter))
            }
    summary = {who: [(kind, post["commentCount"]) for kind, post in events]
               for who, events in heard.items()}  # fmt: skip
    assert summary == {
        "anonymous": [("COMMENT_COUNT", 1), ("COMMENT_COUNT", 0), ("UPDATED", 0)],
        "bob": [("COMMENT_COUNT", 1), ("UPDATED", 1)],  # bob still sees his own comment
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("who", [None, "bob"])
async def test_post_published_announces_publications_and_republications_not_draft_edits(
    serve, db, people, protocol, who
):
    ada = people["ada"][1]
    with serve() as server:
        async with graphql_socket(server.ws_url, protocol) as socket:
            await socket.init(init_payload(people, who))
            await watch_publications(socket, server)
            draft = create_post_live(server, ada, "Drafted first", published=False)
            mutate(server, UPDATE_POST, ada, id=draft, title="Draft, edited")
            mutate(server, PUBLISH_POST, ada, id=draft)
            direct = create_post_live(server, ada, "Published at once", published=True)
            mutate(server, UPDATE_POST, ada, id=direct, title="Published, edited")
            mutate(server, UNPUBLISH_POST, ada, id=draft)
            mutate(server, UPDATE_POST, ada, id=draft, title="Draft again, edited")
            mutate(server, PUBLISH_POST, ada, id=draft)
            mutate(server, PUBLISH_POST, ada, id=draft)  # already published: no change
            create_post_live(server, ada, "Last", published=True)
            heard = [(await socket.next_data("p"))["postPublished"] for _ in range(4)]
    assert [(post["id"], post["title"]) for post in heard] == [
        (draft, "Draft, edited"),
        (direct, "Published at once"),
        (draft, "Draft again, edited"),
        (heard[3]["id"], "Last"),
    ]
    assert all(post["published"] and post["author"]["username"] == "ada" for post in heard)


ROLLBACK_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER refuse_doomed_post BEFORE UPDATE ON posts "
        "WHEN NEW.title LIKE 'doomed%' BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_doomed_post() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.title LIKE 'doomed%' THEN RAISE EXCEPTION 'forced failure'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_doomed_post BEFORE UPDATE ON posts "
        "FOR EACH ROW EXECUTE FUNCTION refuse_doomed_post()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER refuse_doomed_post"],
    "postgresql": [
        "DROP TRIGGER refuse_doomed_post ON posts",
        "DROP FUNCTION refuse_doomed_post()",
    ],
}


async def test_nothing_is_heard_of_post_changes_that_were_rolled_back(serve, db, people):
    """The database refuses the UPDATE as the transaction commits, after the change was
    announced: the events must die with it."""
    ada, author = people["ada"][1], people["ada"][0]
    post = await create_post(db, author=author, title="Watched")
    doomed = await create_post(db, author=author, title="doomed draft", published=False)
    fresh = await create_post(db, author=author, title="Fresh", published=False)
    await run_sql(db, ROLLBACK_TRIGGER[db.dialect])
    try:
        with serve() as server:
            async with graphql_socket(server.ws_url) as socket:
                await socket.init()
                await watch_post_events(socket, server, post)
                await watch_publications(socket, server)
                refused = [
                    call(server, UPDATE_POST, ada, id=post_id(post), title="doomed update"),
                    call(server, PUBLISH_POST, ada, id=post_id(doomed)),
                ]
                mutate(server, UPDATE_POST, ada, id=post_id(post), title="Kept")
                mutate(server, PUBLISH_POST, ada, id=post_id(fresh))
                first = await socket.next_data_of("1", "p")
    finally:
        await run_sql(db, DROP_TRIGGER[db.dialect])
    assert all(body["errors"] for body in refused)
    assert first["1"]["postEvents"] == {
        "kind": "UPDATED",
        "post": {"id": post_id(post), "title": "Kept", "published": True, "commentCount": 0},
    }
    assert first["p"]["postPublished"]["title"] == "Fresh"


async def test_the_graphql_ws_npm_client_hears_the_deletion_then_not_found(serve, db, people):
    post = await create_post(db, author=people["ada"][0])
    with serve() as server:
        client = await NodeSubscriber.start(server.ws_url, 2, POST_EVENTS, {"post": post_id(post)})
        await listening(server, post_channel(post.id), 1)
        mutate(server, DELETE_POST, people["ada"][1], id=post_id(post))
        lines = [await client.line() for _ in range(3)]
        assert await client.finish() == 0
    assert lines == [
        {"data": {"postEvents": {"kind": "DELETED", "post": None}}},
        {"error": ["NOT_FOUND"]},
        {"closed": 1000},
    ]
