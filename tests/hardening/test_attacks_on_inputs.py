"""Hostile values and credentials: mass assignment, page sizes, ids and cursors, huge and
invisible text, SQL-looking searches, forged access tokens, brute force through aliases. Each
gets its exact answer, changes no row, and the server answers normally afterwards."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
from sqlalchemy import func, select

from blog_graphql.accounts.models import LoginFailure
from blog_graphql.posts.models import Post
from tests.hardening import attacks
from tests.hardening.attacks import assert_still_serves, attack, only_error, snapshot

world = attacks.world

# Fields no input may set: each names one the type has in output but not in input.
MASS_ASSIGNMENT = {
    "register isAdmin": (
        "mutation($v: RegisterInput!) { register(input: $v) { id } }",
        {"email": "m@example.com", "username": "mallory", "password": "Secret123",
         "isAdmin": True},
    ),
    "updateMe isActive": (
        "mutation($v: UpdateMeInput!) { updateMe(input: $v) { id } }", {"isActive": True}
    ),
    "updateMe emailVerified": (
        "mutation($v: UpdateMeInput!) { updateMe(input: $v) { id } }", {"emailVerified": True}
    ),
    "createPost author": (
        "mutation($v: CreatePostInput!) { createPost(input: $v) { id } }",
        {"title": "t", "content": "c", "author": "ada"},
    ),
    "updatePost author": (
        "mutation($v: UpdatePostInput!) { updatePost(id: \"x\", input: $v) { id } }",
        {"author": "eve"},
    ),
    "addComment isApproved": (
        "mutation($v: AddCommentInput!) { addComment(input: $v) { id } }",
        {"postId": "x", "content": "c", "isApproved": True},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", MASS_ASSIGNMENT)
async def test_no_input_sets_a_field_it_does_not_have(client, db, world, name):
    query, value = MASS_ASSIGNMENT[name]
    body = await attack(client, db, world["eve_headers"], query, {"v": value})
    assert "data" not in body
    error = only_error(body)
    assert error["code"] == "BAD_USER_INPUT"
    assert list(error["fields"]) == ["v"]


POSTS_PAGE = "query($v: Int) { posts(first: $v) { totalCount } }"
CURSOR_PAGE = "query($v: String) { posts(after: $v) { totalCount } }"
NODE = "query($v: ID!) { node(id: $v) { id } }"
DELETE = "mutation($v: ID!) { deletePost(id: $v) }"
HUGE = "x" * 200_000


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


BAD_VALUES: dict[str, tuple[str, Any, str]] = {
    # name: (query, value, field expected in `fields`)
    "first over 100": (POSTS_PAGE, 101, "first"),
    "negative first": (POSTS_PAGE, -1, "first"),
    "garbage cursor": (CURSOR_PAGE, "not-a-cursor", "after"),
    "cursor of the wrong shape": (CURSOR_PAGE, b64('["x", "y", "z"]'), "after"),
    "cursor holding SQL": (CURSOR_PAGE, b64("1' OR '1'='1"), "after"),
    "malformed id": (DELETE, "!!!", "id"),
    "id with a NUL byte": (DELETE, b64("Post:1\x00"), "id"),
    "id with a huge number": (DELETE, b64("Post:" + "9" * 400), "id"),
}


async def test_node_with_a_malformed_id_is_bad_input(client, db, world):
    body = await attack(client, db, world["eve_headers"], NODE, {"v": "%%%"})
    assert only_error(body)["code"] == "BAD_USER_INPUT"


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Spellings of one post's primary key that `int()` would read: only `Post:<pk>` is its id.
NON_CANONICAL = {
    "Arabic-Indic digits": lambda pk: f"Post:{str(pk).translate(ARABIC_INDIC)}",
    "plus sign and space": lambda pk: f"Post: +{pk}",
    "plus sign": lambda pk: f"Post:+{pk}",
    "leading zero": lambda pk: f"Post:0{pk}",
    "trailing space": lambda pk: f"Post:{pk} ",
    "digit separator": lambda pk: f"Post:0_{pk}",
}


@pytest.mark.parametrize("spelling", NON_CANONICAL)
async def test_only_the_canonical_global_id_resolves(client, db, world, spelling):
    """The owner herself deleting through another spelling of her post's id: refused."""
    variant = b64(NON_CANONICAL[spelling](world["post"].id))
    deleted = await attack(client, db, world["ada_headers"], DELETE, {"v": variant})
    fetched = await attack(client, db, None, NODE, {"v": variant})
    assert deleted["data"] is None and fetched["data"] == {"node": None}
    for body in (deleted, fetched):
        error = only_error(body)
        assert (error["code"], error["fields"]) == ("BAD_USER_INPUT", {"id": "Malformed id."})
    canonical = await client.post(
        "/graphql", json={"query": NODE, "variables": {"v": world["ids"]["post"]}}
    )
    assert canonical.json() == {"data": {"node": {"id": world["ids"]["post"]}}}


async def test_a_page_of_a_billion_is_bad_user_input_before_any_cost(client, db, world):
    body = await attack(client, db, world["eve_headers"], POSTS_PAGE, {"v": 1_000_000_000})
    assert only_error(body) == {
        "message": "Invalid input.",
        "code": "BAD_USER_INPUT",
        "fields": {"first": "Use a number from 0 to 100."},
    }


async def test_a_global_id_of_another_type_is_not_found(client, db, world):
    """Ada's user id handed to deletePost: no post has it."""
    body = await attack(client, db, world["eve_headers"], DELETE, {"v": world["ids"]["ada"]})
    assert body["data"] is None
    assert only_error(body)["code"] == "NOT_FOUND"


CREATE = "mutation($v: CreatePostInput!) { createPost(input: $v) { id } }"
REGISTER = "mutation($v: RegisterInput!) { register(input: $v) { id } }"
BAD_TEXT: dict[str, tuple[str, Any, str]] = {
    "huge title": (CREATE, {"title": HUGE, "content": "c"}, "title"),
    "NUL in a title": (CREATE, {"title": "a\x00b", "content": "c"}, "title"),
    "NUL in content": (CREATE, {"title": "t", "content": "a\x00b"}, "content"),
    "RTL override in a username": (
        REGISTER,
        {"email": "r@example.com", "username": "evil\u202egnp", "password": "Secret123"},
        "username",
    ),
    "NUL in a username": (
        REGISTER,
        {"email": "n@example.com", "username": "nul\x00l", "password": "Secret123"},
        "username",
    ),
    "huge tag": (CREATE, {"title": "t", "content": "c", "tags": [HUGE[:5000]]}, "tags"),
}


BAD_INPUTS: dict[str, tuple[str, Any, str]] = {**BAD_VALUES, **BAD_TEXT}


@pytest.mark.parametrize("name", BAD_INPUTS)
async def test_a_malformed_or_hostile_value_is_bad_user_input_naming_it(client, db, world, name):
    query, value, field = BAD_INPUTS[name]
    body = await attack(client, db, world["eve_headers"], query, {"v": value})
    error = only_error(body)
    assert error["code"] == "BAD_USER_INPUT", body
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(
    "search", ["' OR 1=1 --", "%", "_", "'; DROP TABLE posts; --", "\\", "secret' UNION SELECT"]
)
async def test_a_sql_looking_search_is_just_text(client, db, world, search):
    query = "query($v: String) { posts(filter: {search: $v}) { totalCount } }"
    body = await attack(client, db, world["eve_headers"], query, {"v": search})
    assert body == {"data": {"posts": {"totalCount": 0}}}


def forge(settings, claims: dict[str, Any], how: str) -> str:
    if how == "alg none":
        return jwt.encode(claims, key="", algorithm="none")
    if how == "another key":
        return jwt.encode(claims, "a-guessed-secret-" * 3, algorithm="HS256")
    return jwt.encode({**claims, "typ": "refresh"}, settings.secret_key, algorithm="HS256")


@pytest.mark.parametrize("how", ["alg none", "another key", "refresh as access"])
async def test_a_forged_token_for_ada_deletes_nothing(client, db, settings, world, how):
    """Eve re-signs her own access token with Ada's id to delete Ada's post."""
    token = world["eve_headers"]["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = forge(settings, {**claims, "sub": str(world["ada"].id)}, how)
    headers = {"Authorization": f"Bearer {forged}"}
    body = await attack(client, db, headers, DELETE, {"v": world["ids"]["post"]})
    assert only_error(body) == {"message": "Invalid or expired token.", "code": "UNAUTHENTICATED"}


def aliased_logins(count: int, password: str) -> str:
    fields = " ".join(
        f'l{n}: login(input: {{login: "ada", password: "{password}"}}) {{ accessToken }}'
        for n in range(count)
    )
    return f"mutation {{ {fields} }}"


async def failures(db) -> int:
    """Failed logins counted towards a lockout, over every login key."""
    async with db.engine.connect() as connection:
        counted = await connection.scalar(select(func.sum(LoginFailure.failures)))
    return int(counted or 0)


async def test_aliases_spend_the_login_budget_per_occurrence(client_with, db, world):
    async with client_with(rate_limit_fields="login=3/minute") as client:
        before = await snapshot(db)
        response = await client.post("/graphql", json={"query": aliased_logins(4, "Guess1234")})
        assert response.status_code == 429
        assert only_error(response.json())["code"] == "RATE_LIMITED"
        assert await failures(db) == 0  # refused before a single password was checked
        assert await snapshot(db) == before
        await assert_still_serves(client)


async def test_aliased_logins_stop_at_the_first_failure_and_count_once(client, db, world):
    """`login` is non-null and mutations run in order: the first failure nulls `data` and the
    aliases after it never run, so each request costs the attacker one lockout attempt."""
    before = await snapshot(db)
    for attempt in range(1, 6):
        response = await client.post("/graphql", json={"query": aliased_logins(3, "Guess1234")})
        assert only_error(response.json())["code"] == "UNAUTHENTICATED"
        assert await failures(db) == attempt
    right = await client.post("/graphql", json={"query": aliased_logins(1, "Secret123")})
    assert only_error(right.json())["code"] == "RATE_LIMITED"  # locked even for the right one
    assert await snapshot(db) == before
    await assert_still_serves(client)


# A control character in any string argument is BAD_USER_INPUT on the innermost argument
# or input field that holds it (API.md "Errors"), before any resolver or SQL runs: these
# reached PostgreSQL and answered INTERNAL_SERVER_ERROR.
SIGN_UP = {"email": "n@example.com", "username": "newcomer", "password": "Secret123"}
CONTROL_ATTACKS: dict[str, tuple[str, dict[str, Any], str]] = {
    "user(username:)": ("query($v: String!) { user(username: $v) { id } }", {"v": "ada\x00"},
                        "username"),
    "login login": ("mutation($v: LoginInput!) { login(input: $v) { accessToken } }",
                    {"v": {"login": "ada\x00", "password": "Secret123"}}, "login"),
    "login password": ("mutation($v: LoginInput!) { login(input: $v) { accessToken } }",
                       {"v": {"login": "ada", "password": "Secret\x00123"}}, "password"),
    "requestPasswordReset": ("mutation($v: String!) { requestPasswordReset(email: $v) }",
                             {"v": "ada@example.com\x00"}, "email"),
    "register email": (REGISTER, {"v": {**SIGN_UP, "email": "n\x00@example.com"}}, "email"),
    "register password": (REGISTER, {"v": {**SIGN_UP, "password": "Secret\x00123"}}, "password"),
    "register fullName": (REGISTER, {"v": {**SIGN_UP, "fullName": "New\x00"}}, "fullName"),
    "register bio": (REGISTER, {"v": {**SIGN_UP, "bio": "hi\x00"}}, "bio"),
    "updateMe fullName": ("mutation($v: UpdateMeInput!) { updateMe(input: $v) { id } }",
                          {"v": {"fullName": "Eve\x00"}}, "fullName"),
    "updateMe email": ("mutation($v: UpdateMeInput!) { updateMe(input: $v) { id } }",
                       {"v": {"email": "eve\x00@example.com", "currentPassword": "Secret123"}},
                       "email"),
    "a newline in a title": (CREATE, {"v": {"title": "a\nb", "content": "c"}}, "title"),
    "an escape in a bio": (REGISTER, {"v": {**SIGN_UP, "bio": "ring\x07ring"}}, "bio"),
    "C1 in a tag": (CREATE, {"v": {"title": "t", "content": "c", "tags": ["x\x85"]}}, "tags"),
    "DEL in content": (CREATE, {"v": {"title": "t", "content": "a\x7fb"}}, "content"),
    "inline escape": ('{ user(username: "ada\\u0000") { id } }', {}, "username"),
    "inline block string": ('{ user(username: """ada\tx""") { id } }', {}, "username"),
    "through a fragment": ("query($v: String) { ...Q } fragment Q on Query "
                           "{ posts(filter: {search: $v}) { totalCount } }", {"v": "x\x00"},
                           "search"),
    "a variable's default": ('query($v: String = "a\\u0000") { posts(filter: {tag: $v}) '
                             "{ totalCount } }", {}, "tag"),
}  # fmt: skip


@pytest.mark.parametrize("name", CONTROL_ATTACKS)
async def test_a_control_character_in_any_string_is_bad_user_input_on_its_field(
    client, db, world, name
):
    query, variables, field = CONTROL_ATTACKS[name]
    long_text = field in ("bio", "content")
    message = "Remove the control characters" + (
        " (tabs and line breaks may stay)." if long_text else "."
    )
    body = await attack(client, db, world["eve_headers"], query, variables)
    assert body == {  # refused before execution: a request error, without `data`
        "errors": [
            {
                "message": "Invalid input.",
                "extensions": {"code": "BAD_USER_INPUT", "fields": {field: message}},
            }
        ],
    }


async def test_long_texts_keep_tabs_and_line_breaks(client, db, world):
    content = "# Title\r\n\r\n\tcode\nend"
    body = await attack_allowed(client, world, CREATE, {"title": "Lines", "content": content})
    assert "errors" not in body, body
    async with db.session() as session:
        assert await session.scalar(select(Post.content).where(Post.title == "Lines")) == content


async def attack_allowed(client, world, query: str, value: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": {"v": value}}, headers=world["eve_headers"]
    )
    body: dict[str, Any] = response.json()
    return body
