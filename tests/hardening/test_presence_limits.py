"""`setTyping` is chatty: production gives it a budget of its own, 60 calls a minute per user."""

from blog_graphql.config.settings import DEFAULT_FIELD_RATE_LIMITS
from blog_graphql.relay.ids import encode_id
from tests.conftest import graphql
from tests.factories import auth_headers, create_post, create_user

SET_TYPING = "mutation($post: ID!) { setTyping(postId: $post, typing: true) }"


async def test_production_allows_sixty_set_typing_a_minute_per_user(client_with, db, settings):
    ada, bob = await create_user(db), await create_user(db)
    post = await create_post(db, author=ada)
    variables = {"post": encode_id("Post", post.id)}
    headers = await auth_headers(db, settings, ada)
    async with client_with(rate_limit_fields=DEFAULT_FIELD_RATE_LIMITS) as client:
        answers = [await graphql(client, SET_TYPING, variables, headers) for _ in range(60)]
        refused = await graphql(client, SET_TYPING, variables, headers)
        another_user = await graphql(
            client, SET_TYPING, variables, await auth_headers(db, settings, bob)
        )
    assert answers == [{"data": {"setTyping": True}}] * 60
    assert [error["extensions"]["code"] for error in refused["errors"]] == ["RATE_LIMITED"]
    assert another_user == {"data": {"setTyping": True}}
