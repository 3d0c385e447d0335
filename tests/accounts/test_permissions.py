"""The permission classes later resolvers use: signed in, admin, owner (or admin)."""

import pytest
import strawberry
from strawberry.permission import PermissionExtension

from blog_graphql.accounts.permissions import IsAdmin, IsAuthenticated, IsOwnerOrAdmin
from blog_graphql.context import Context
from blog_graphql.errors import MaskUnexpectedErrors
from tests.factories import create_user


@strawberry.type
class Draft:
    owner_id: strawberry.Private[int]

    @strawberry.field(permission_classes=[IsOwnerOrAdmin])
    def body(self) -> str:
        return "secret"

    @strawberry.field(
        extensions=[PermissionExtension([IsOwnerOrAdmin()], use_directives=False,
                                        fail_silently=True)]
    )  # fmt: skip
    def notes(self) -> str | None:
        return "private notes"


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsAuthenticated])
    def mine(self) -> str:
        return "yours"

    @strawberry.field(permission_classes=[IsAdmin])
    def admin_only(self) -> str:
        return "root"

    @strawberry.field
    def draft(self, owner_id: int) -> Draft | None:
        return Draft(owner_id=owner_id)


schema = strawberry.Schema(query=Query, extensions=[MaskUnexpectedErrors])


async def run(app_state, query, viewer):
    result = await schema.execute(query, context_value=Context.create(app_state, viewer=viewer))
    codes = [(error.extensions or {}).get("code") for error in result.errors or []]
    return result.data, codes


@pytest.fixture
async def people(db):
    return {
        "owner": await create_user(db, username="owner"),
        "other": await create_user(db, username="other"),
        "admin": await create_user(db, username="root", is_admin=True),
        "anonymous": None,
    }


@pytest.mark.parametrize(
    ("who", "codes"),
    [("owner", []), ("other", []), ("admin", []), ("anonymous", ["UNAUTHENTICATED"])],
)
async def test_is_authenticated(app_state, people, who, codes):
    assert (await run(app_state, "{ mine }", people[who]))[1] == codes


@pytest.mark.parametrize(
    ("who", "codes"),
    [("owner", ["FORBIDDEN"]), ("admin", []), ("anonymous", ["UNAUTHENTICATED"])],
)
async def test_is_admin(app_state, people, who, codes):
    assert (await run(app_state, "{ adminOnly }", people[who]))[1] == codes


@pytest.mark.parametrize(
    ("who", "body", "notes", "codes"),
    [
        ("owner", "secret", "private notes", []),
        ("admin", "secret", "private notes", []),
        ("other", None, None, ["FORBIDDEN"]),
        ("anonymous", None, None, ["FORBIDDEN"]),
    ],
)
async def test_is_owner_or_admin_refuses_or_answers_null(
    app_state, people, who, body, notes, codes
):
    query = f"{{ body: draft(ownerId: {people['owner'].id}) {{ body }} "
    query += f"notes: draft(ownerId: {people['owner'].id}) {{ notes }} }}"
    data, errors = await run(app_state, query, people[who])
    assert data is not None
    assert (data["body"] and data["body"]["body"]) == body
    assert data["notes"] == {"notes": notes}  # fail_silently: null, no error
    assert errors == codes
