"""API.md's rules for account fields, reported all at once by input field name."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from blog_graphql.accounts.passwords import password_problem
from blog_graphql.errors import InvalidInput

INVALID_EMAIL = "Enter a valid email address."
MAX_EMAIL_LENGTH = 320
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{3,50}")
MAX_FULL_NAME_LENGTH = 200
MAX_BIO_LENGTH = 5000


def normalized_email(email: str | None) -> str | None:
    """The one addr-spec in `email`, normalised; None unless it is exactly one valid address.

    email-validator refuses lists (`a,b@x`), display names (`X <a@x>`), control and
    zero-width characters. Its normal form (domain lower-cased, Unicode NFC) is what is
    stored and looked up, so two spellings of one mailbox cannot make two accounts.
    Syntax only: no DNS lookup.
    """
    if email is None or len(email) > MAX_EMAIL_LENGTH:
        return None
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def email_problem(email: str | None) -> str | None:
    return INVALID_EMAIL if normalized_email(email) is None else None


def username_problem(username: str) -> str | None:
    if not USERNAME_PATTERN.fullmatch(username):
        return "Use 3 to 50 letters, digits, '_' or '-'."
    return None


def text_problem(value: str | None, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        return f"Use at most {limit} characters."
    return None


def clean_text(value: str | None) -> str | None:
    """Optional free text: surrounding space dropped, blank stored as null."""
    value = value.strip() if value is not None else None
    return value or None


def raise_problems(problems: dict[str, str | None]) -> None:
    """BAD_USER_INPUT naming every field that has a problem; nothing if none has."""
    fields = {field: problem for field, problem in problems.items() if problem is not None}
    if fields:
        raise InvalidInput(fields)


def check_new_account(
    email: str,
    username: str,
    password: str,
    full_name: str | None = None,
    bio: str | None = None,
) -> None:
    raise_problems(
        {
            "email": email_problem(email),
            "username": username_problem(username),
            "password": password_problem(password),
            "fullName": text_problem(full_name, MAX_FULL_NAME_LENGTH),
            "bio": text_problem(bio, MAX_BIO_LENGTH),
        }
    )
