"""Password rules and bcrypt hashing (run in a thread: bcrypt is slow on purpose)."""

from __future__ import annotations

import asyncio
import re

import bcrypt

MIN_BYTES = 8
MAX_BYTES = 72  # bcrypt's limit; longer input is refused, never truncated
PASSWORD_RULES = "Use 8 to 72 bytes with an upper-case letter, a lower-case letter and a digit."
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{3,50}")


def password_problem(password: str) -> str | None:
    """Why a password breaks API.md's rules, or None when it is acceptable."""
    size = len(password.encode("utf-8"))
    if not MIN_BYTES <= size <= MAX_BYTES:
        return PASSWORD_RULES
    if not (
        any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
    ):
        return PASSWORD_RULES
    return None


def hash_password_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password_sync(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:  # a malformed stored hash never matches
        return False


async def hash_password(password: str, rounds: int) -> str:
    return await asyncio.to_thread(hash_password_sync, password, rounds)


async def verify_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(verify_password_sync, password, password_hash)
