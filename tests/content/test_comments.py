"""Comments: add, reply, edit, delete (tombstones), moderate; every error code."""

import httpx
import pytest
from sqlalchemy import select

from blog_graphql.app import create_app
from blog_graphql.comments.models import Comment
from blog_graphql.guards.control_characters import NO_CONTROL_BUT_LINES
from blog_graphql.relay.ids import decode_id, encode_id
from blog_graphql.state import AppState
from tests.conftest import graphql
from tests.content.helpers import (
    ADD_COMMENT,
    DELETE_COMMENT,
    MODERATE_COMMENT,
    PERSON,
    UPDATE_COMMENT,
    comment_id,
    error_code,
    error_fields,
    post_id,
    users_as_shown,
)
from tests.factories import auth_headers, create_comment, create_post, create_user

THREAD = """query($s: String!) { post(slug: $s) { commentCount comments { totalCount edges {
  node { content isDeleted author { username }
    replies { edges { node { content isDeleted } } } } } } } }"""


def add(post, content="Hello", parent=None):
    variables = {"postId": post_id(post), "content": content}
    if parent is not None:
        variables["parentId"] = comment_id(parent)
    return {"input": variables}


async def thread_of(call, post, user=None):
    return (await call(THREAD, {"s": post.slug}, user=user))["data"]["post"]


async def test_add_comment_and_reply(call, db):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    top = (await call(ADD_COMMENT, add(post, "  First!  "), user=bob))["data"]["addComment"]
    assert top["content"] == "First!" and top["isApproved"] is True and top["parent"] is None
    parent = await db_comment(db, top["id"])
    reply = (await call(ADD_COMMENT, add(post, "Thanks", parent), user=ada))["data"]
    assert reply["addComment"]["parent"] == {"id": top["id"]}
    thread = await thread_of(call, post)
    assert thread["commentCount"] == 2
    first = thread["comments"]["edges"][0]["node"]
    assert (first["content"], first["author"]["username"]) == ("First!", "bob")
    assert first["replies"]["edges"][0]["node"]["content"] == "Thanks"
    assert parent.post_id == post.id


async def db_comment(db, global_id: str):
    async with db.session() as session:
        comment = await session.get(Comment, decode_id(global_id, "Comment"))
    assert comment is not None
    return comment


async def test_comments_and_replies_read_oldest_first(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    for n in range(3):
        await create_comment(db, post=post, author=ada, content=f"c{n}")
    edges = (await thread_of(call, post))["comments"]["edges"]
    assert [edge["node"]["content"] for edge in edges] == ["c0", "c1", "c2"]


async def test_a_reply_must_be_on_the_same_post_and_not_to_a_deleted_comment(call, db):
    ada = await create_user(db)
    post, other = await create_post(db, author=ada), await create_post(db, author=ada)
    elsewhere = await create_comment(db, post=other, author=ada)
    body = await call(ADD_COMMENT, add(post, "x", elsewhere), user=ada)
    assert error_fields(body) == {"parentId": "Reply to a comment on the same post."}

    parent = await create_comment(db, post=post, author=ada)
    await create_comment(db, post=post, author=ada, parent=parent)
    await call(DELETE_COMMENT, {"id": comment_id(parent)}, user=ada)  # leaves a tombstone
    body = await call(ADD_COMMENT, add(post, "x", parent), user=ada)
    assert error_fields(body) == {"parentId": "That comment was deleted."}


@pytest.mark.parametrize("content", ["", "   ", "x" * 10_001])
async def test_comment_length_is_bad_user_input_on_content(call, db, content):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    assert error_fields(await call(ADD_COMMENT, add(post, content), user=ada)) == {
        "content": "Use 1 to 10,000 characters."
    }
    comment = await create_comment(db, post=post, author=ada)
    update = await call(UPDATE_COMMENT, {"id": comment_id(comment), "content": content}, user=ada)
    assert list(error_fields(update)) == ["content"]


async def test_the_longest_comment_is_accepted(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    body = await call(ADD_COMMENT, add(post, "x" * 10_000), user=ada)
    assert len(body["data"]["addComment"]["content"]) == 10_000


async def test_adding_needs_a_visible_post_and_parent(call, db):
    ada, bob = await create_user(db), await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    assert error_code(await call(ADD_COMMENT, add(draft), user=bob)) == "NOT_FOUND"
    assert "errors" not in await call(ADD_COMMENT, add(draft), user=ada)

    post = await create_post(db, author=ada)
    hidden = await create_comment(db, post=post, author=ada, approved=False)
    assert error_code(await call(ADD_COMMENT, add(post, "x", hidden), user=bob)) == "NOT_FOUND"
    wrong_type = {"input": {"postId": comment_id(hidden), "content": "x"}}
    assert error_code(await call(ADD_COMMENT, wrong_type, user=bob)) == "NOT_FOUND"
    malformed = {"input": {"postId": "@@", "content": "x"}}
    assert error_fields(await call(ADD_COMMENT, malformed, user=bob)) == {"postId": "Malformed id."}


async def test_update_comment_by_its_author_or_an_admin_only(call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    comment = await create_comment(db, post=await create_post(db, author=ada), author=bob)
    variables = {"id": comment_id(comment), "content": "edited"}
    assert error_code(await call(UPDATE_COMMENT, variables)) == "UNAUTHENTICATED"
    assert error_code(await call(UPDATE_COMMENT, variables, user=ada)) == "FORBIDDEN"
    own = (await call(UPDATE_COMMENT, variables, user=bob))["data"]["updateComment"]
    assert own["content"] == "edited"
    by_admin = await call(UPDATE_COMMENT, {**variables, "content": "tidied"}, user=admin)
    assert by_admin["data"]["updateComment"]["content"] == "tidied"
    updated = await db_comment(db, variables["id"])
    assert updated.updated_at > updated.created_at


async def test_deleting_a_comment_without_replies_removes_it(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    comment = await create_comment(db, post=post, author=ada)
    assert (await call(DELETE_COMMENT, {"id": comment_id(comment)}, user=ada))["data"] == {
        "deleteComment": True
    }
    thread = await thread_of(call, post)
    assert thread["comments"]["edges"] == [] and thread["commentCount"] == 0
    again = await call(DELETE_COMMENT, {"id": comment_id(comment)}, user=ada)
    assert error_code(again) == "NOT_FOUND"


async def test_deleting_a_comment_with_replies_leaves_a_readable_tombstone(call, db):
    ada, bob = await create_user(db, username="ada"), await create_user(db, username="bob")
    post = await create_post(db, author=ada)
    parent = await create_comment(db, post=post, author=bob, content="secret words")
    await create_comment(db, post=post, author=ada, parent=parent, content="answer")
    await call(DELETE_COMMENT, {"id": comment_id(parent)}, user=bob)

    thread = await thread_of(call, post)
    tombstone = thread["comments"]["edges"][0]["node"]
    assert (tombstone["content"], tombstone["isDeleted"]) == ("", True)
    assert tombstone["replies"]["edges"][0]["node"]["content"] == "answer"
    assert thread["commentCount"] == 1 and thread["comments"]["totalCount"] == 1
    assert (await db_comment(db, comment_id(parent))).content == ""  # erased, not hidden
    edit = await call(UPDATE_COMMENT, {"id": comment_id(parent), "content": "back"}, user=bob)
    assert error_code(edit) == "NOT_FOUND"


async def test_deleting_the_last_reply_of_tombstones_removes_them_too(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    root = await create_comment(db, post=post, author=ada, content="root")
    middle = await create_comment(db, post=post, author=ada, parent=root, content="middle")
    leaf = await create_comment(db, post=post, author=ada, parent=middle, content="leaf")
    sibling = await create_comment(db, post=post, author=ada, parent=root, content="sibling")
    for comment in (root, middle):
        await call(DELETE_COMMENT, {"id": comment_id(comment)}, user=ada)

    await call(DELETE_COMMENT, {"id": comment_id(leaf)}, user=ada)
    thread = await thread_of(call, post)
    root_node = thread["comments"]["edges"][0]["node"]
    assert root_node["isDeleted"] is True  # still has `sibling`
    assert [e["node"]["content"] for e in root_node["replies"]["edges"]] == ["sibling"]

    await call(DELETE_COMMENT, {"id": comment_id(sibling)}, user=ada)
    assert (await thread_of(call, post))["comments"]["edges"] == []


async def test_delete_comment_errors(call, db):
    ada, bob = await create_user(db), await create_user(db)
    comment = await create_comment(db, post=await create_post(db, author=ada), author=ada)
    variables = {"id": comment_id(comment)}
    assert error_code(await call(DELETE_COMMENT, variables)) == "UNAUTHENTICATED"
    assert error_code(await call(DELETE_COMMENT, variables, user=bob)) == "FORBIDDEN"
    wrong_type = {"id": encode_id("Post", comment.post_id)}
    assert error_code(await call(DELETE_COMMENT, wrong_type, user=ada)) == "NOT_FOUND"
    assert list(error_fields(await call(DELETE_COMMENT, {"id": "x"}, user=ada))) == ["id"]


async def test_admins_hide_and_show_comments(call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=ada)
    comment = await create_comment(db, post=post, author=bob)
    variables = {"id": comment_id(comment), "approved": False}
    hidden = (await call(MODERATE_COMMENT, variables, user=admin))["data"]["moderateComment"]
    assert hidden["isApproved"] is False
    assert (await thread_of(call, post))["comments"]["edges"] == []
    assert (await thread_of(call, post, user=bob))["commentCount"] == 1  # its author sees it

    shown = await call(MODERATE_COMMENT, {**variables, "approved": True}, user=admin)
    assert shown["data"]["moderateComment"]["isApproved"] is True
    assert (await thread_of(call, post))["commentCount"] == 1
    moderated = await db_comment(db, comment_id(comment))
    assert moderated.updated_at == moderated.created_at  # moderation is not an edit


async def test_moderation_is_for_admins(call, db):
    ada, bob = await create_user(db), await create_user(db)
    post = await create_post(db, author=ada)
    comment = await create_comment(db, post=post, author=bob)
    pending = await create_comment(db, post=post, author=bob, approved=False)
    variables = {"id": comment_id(comment), "approved": False}
    assert error_code(await call(MODERATE_COMMENT, variables)) == "UNAUTHENTICATED"
    assert error_code(await call(MODERATE_COMMENT, variables, user=ada)) == "FORBIDDEN"
    assert error_code(await call(MODERATE_COMMENT, variables, user=bob)) == "FORBIDDEN"
    # To anyone but an admin the answer is the same whether the comment exists or not.
    for hidden_or_missing in (comment_id(pending), encode_id("Comment", 99999)):
        variables = {"id": hidden_or_missing, "approved": True}
        assert error_code(await call(MODERATE_COMMENT, variables, user=ada)) == "FORBIDDEN"
    admin = await create_user(db, is_admin=True)
    missing = {"id": encode_id("Comment", 99999), "approved": True}
    assert error_code(await call(MODERATE_COMMENT, missing, user=admin)) == "NOT_FOUND"


@pytest.fixture
async def pre_moderated(app_state, db, settings):
    """GraphQL calls to an app started with COMMENT_MODERATION=pre."""
    state = AppState(settings=settings.model_copy(update={"comment_moderation": "pre"}), db=db)
    transport = httpx.ASGITransport(app=create_app(state=state))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def run(query, variables=None, *, user=None):
            headers = await auth_headers(db, settings, user) if user else None
            return await graphql(client, query, variables, headers)

        yield run


async def test_with_pre_moderation_new_comments_wait_for_an_admin(pre_moderated, call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=ada)
    body = await pre_moderated(ADD_COMMENT, add(post, "wait"), user=bob)
    waiting = body["data"]["addComment"]
    assert waiting["isApproved"] is False
    assert (await thread_of(call, post))["commentCount"] == 0
    assert (await thread_of(call, post, user=bob))["commentCount"] == 1

    by_admin = await pre_moderated(ADD_COMMENT, add(post, "admin"), user=admin)
    assert by_admin["data"]["addComment"]["isApproved"] is True

    await call(MODERATE_COMMENT, {"id": waiting["id"], "approved": True}, user=admin)
    assert (await thread_of(call, post))["commentCount"] == 2


async def test_with_pre_moderation_an_authors_edit_sends_an_approved_comment_back_to_waiting(
    pre_moderated, call, db
):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=ada)
    waiting = (await pre_moderated(ADD_COMMENT, add(post, "harmless"), user=bob))["data"]
    approve = {"id": waiting["addComment"]["id"], "approved": True}
    await pre_moderated(MODERATE_COMMENT, approve, user=admin)
    assert (await thread_of(call, post))["commentCount"] == 1

    edit = {"id": approve["id"], "content": "now a spam link"}
    edited = (await pre_moderated(UPDATE_COMMENT, edit, user=bob))["data"]["updateComment"]
    assert (edited["content"], edited["isApproved"]) == ("now a spam link", False)
    stored = await db_comment(db, approve["id"])
    assert (stored.content, stored.is_approved) == ("now a spam link", False)
    assert (await thread_of(call, post))["commentCount"] == 0  # the public no longer sees it
    assert (await thread_of(call, post, user=bob))["commentCount"] == 1  # its author does

    # An admin's edit is no reason to wait; after approval the public reads it again.
    await pre_moderated(MODERATE_COMMENT, approve, user=admin)
    by_admin = {"id": approve["id"], "content": "tidied by an admin"}
    tidied = (await pre_moderated(UPDATE_COMMENT, by_admin, user=admin))["data"]["updateComment"]
    assert tidied["isApproved"] is True
    assert (await thread_of(call, post))["commentCount"] == 1


async def test_comment_post_and_node_refetch(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, title="Home")
    comment = await create_comment(db, post=post, author=ada, content="hi")
    query = (
        "query($id: ID!) { node(id: $id) { __typename ... on Comment { content post { title } } } }"
    )
    body = await call(query, {"id": comment_id(comment)})
    assert body["data"]["node"] == {
        "__typename": "Comment",
        "content": "hi",
        "post": {"title": "Home"},
    }


AUTHORS = (
    """query($s: String!) { post(slug: $s) { comments { edges { node {
  author { ...Person } replies { edges { node { author { ...Person } } } } } } } } }
"""
    + PERSON
)


async def test_comment_authors_read_with_their_page_are_the_users_as_user_shows_them(call, db):
    # A page of comments reads its authors in the same statement: the same users, inactive
    # ones included, with the email only to themselves and admins, as `user` shows them.
    writer = await create_user(db)
    gone = await create_user(db, is_active=False, email_verified=False, full_name="Gone")
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=writer)
    top = await create_comment(db, post=post, author=gone)
    await create_comment(db, post=post, author=admin, parent=top)
    for viewer in (None, writer, admin):
        thread = (await call(AUTHORS, {"s": post.slug}, user=viewer))["data"]["post"]
        (edge,) = thread["comments"]["edges"]
        (reply,) = edge["node"]["replies"]["edges"]
        authors = [edge["node"]["author"], reply["node"]["author"]]
        assert authors == await users_as_shown(call, (gone, admin), viewer)
        assert authors[0]["isActive"] is False and authors[0]["fullName"] == "Gone"
        assert (authors[1]["email"] is not None) is (viewer is admin)


async def test_comments_of_a_deleted_post_are_gone(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    comment = await create_comment(db, post=post, author=ada)
    await call("mutation($id: ID!) { deletePost(id: $id) }", {"id": post_id(post)}, user=ada)
    async with db.session() as session:
        assert await session.scalar(select(Comment).where(Comment.id == comment.id)) is None


async def test_a_nul_character_in_a_comment_is_bad_user_input(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    body = await call(ADD_COMMENT, add(post, "a\x00b"), user=ada)
    assert error_fields(body) == {"content": NO_CONTROL_BUT_LINES}
    async with db.session() as session:
        assert await session.scalar(select(Comment)) is None
