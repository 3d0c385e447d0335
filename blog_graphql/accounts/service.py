"""Account use cases; each owns its transaction."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select

from blog_graphql.accounts.models import User
from blog_graphql.accounts.passwords import USERNAME_PATTERN, hash_password, password_problem
from blog_graphql.db import Database
from blog_graphql.errors import Conflict, InvalidInput

EMAIL_PATTERN = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
MAX_EMAIL_LENGTH = 320


async def find_user_by_username(db: Database, username: str) -> User | None:
    async with db.session() as session:
        return await session.scalar(
            select(User).where(func.lower(User.username) == username.lower())
        )


def check_new_account(email: str, username: str, password: str) -> None:
    """API.md's rules for a new account; all problems at once, by field."""
    problems: dict[str, str] = {}
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.fullmatch(email):
        problems["email"] = "Enter a valid email address."
    if not USERNAME_PATTERN.fullmatch(username):
        problems["username"] = "Use 3 to 50 letters, digits, '_' or '-'."
    if (problem := password_problem(password)) is not None:
        problems["password"] = problem
    if problems:
        raise InvalidInput(problems)


async def create_user(
    db: Database,
    *,
    email: str,
    username: str,
    password: str,
    bcrypt_rounds: int,
    full_name: str | None = None,
    bio: str | None = None,
    is_admin: bool = False,
) -> User:
    email, username = email.strip(), username.strip()
    check_new_account(email, username, password)
    password_hash = await hash_password(password, bcrypt_rounds)
    async with db.transaction() as session:
        taken = await session.scalar(
            select(User.id).where(
                or_(
                    func.lower(User.email) == email.lower(),
                    func.lower(User.username) == username.lower(),
                )
            )
        )
        if taken is not None:
            raise Conflict({"email": "Email or username is already taken."})
        user = User(
            email=email,
            username=username,
            password_hash=password_hash,
            full_name=full_name,
            bio=bio,
            is_admin=is_admin,
            email_verified=is_admin,
        )
        session.add(user)
    return user
