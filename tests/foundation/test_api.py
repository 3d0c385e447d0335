"""The first slice of the schema end to end: tags, users, node refetching, probes."""

from blog_graphql.relay.ids import encode_id
from tests.conftest import graphql
from tests.factories import create_tag, create_user


async def test_tags_lists_every_tag_by_name(client, db):
    await create_tag(db, name="Rust", color="#ef4444")
    await create_tag(db, name="python")
    body = await graphql(client, "{ tags { name slug color } }")
    assert body == {
        "data": {
            "tags": [
                {"name": "python", "slug": "python", "color": "#3b82f6"},
                {"name": "Rust", "slug": "rust", "color": "#ef4444"},
            ]
        }
    }


async def test_user_is_found_by_username_ignoring_case(client, db):
    ada = await create_user(db, username="Ada", full_name="Ada Lovelace")
    body = await graphql(client, '{ user(username: "aDA") { id username fullName email } }')
    assert body["data"]["user"] == {
        "id": encode_id("User", ada.id),
        "username": "Ada",
        "fullName": "Ada Lovelace",
        "email": None,  # not to an anonymous viewer
    }
    assert (await graphql(client, '{ user(username: "nobody") { id } }'))["data"] == {"user": None}


async def test_node_refetches_users_and_tags_by_global_id(client, db):
    ada = await create_user(db, username="ada")
    tag = await create_tag(db, name="GraphQL")
    query = """query($u: ID!, $t: ID!) {
      u: node(id: $u) { __typename id ... on User { username } }
      t: node(id: $t) { __typename id ... on Tag { name } }
    }"""
    body = await graphql(
        client, query, {"u": encode_id("User", ada.id), "t": encode_id("Tag", tag.id)}
    )
    assert body["data"] == {
        "u": {"__typename": "User", "id": encode_id("User", ada.id), "username": "ada"},
        "t": {"__typename": "Tag", "id": encode_id("Tag", tag.id), "name": "GraphQL"},
    }


async def test_node_of_a_missing_object_or_unknown_type_is_null(client, db):
    body = await graphql(
        client,
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }",
        {"a": encode_id("User", 999), "b": encode_id("Spaceship", 1)},
    )
    assert body == {"data": {"a": None, "b": None}}


async def test_a_malformed_global_id_is_bad_user_input(client, db):
    body = await graphql(client, '{ node(id: "not-base64!") { id } }')
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": {"id": "Malformed id."}}


async def test_many_node_lookups_load_users_in_one_batched_statement(client, db, sql_log):
    users = [await create_user(db) for _ in range(5)]
    fields = " ".join(
        f'u{n}: node(id: "{encode_id("User", user.id)}") {{ ... on User {{ username }} }}'
        for n, user in enumerate(users)
    )
    sql_log.clear()
    body = await graphql(client, f"{{ {fields} }}")
    assert [body["data"][f"u{n}"]["username"] for n in range(5)] == [u.username for u in users]
    assert len(sql_log.statements()) == 1


async def test_probes_answer_when_the_database_is_up(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}


async def test_graphiql_is_served_to_a_browser(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_the_root_points_to_the_graphql_endpoint(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.json()["graphql"] == "/graphql"
    assert response.json()["health"] == "/healthz"
