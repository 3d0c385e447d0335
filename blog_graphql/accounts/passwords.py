"""Password rules and bcrypt hashing (run in a thread: bcrypt is slow on purpose)."""

from __future__ import annotations

import asyncio
import secrets

import bcrypt

MIN_BYTES = 8
MAX_BYTES = 72  # bcrypt's limit; longer input is refused, never truncated
PASSWORD_RULES = "Use 8 to 72 bytes with an upper-case letter, a lower-case letter and a digit."
WRONG_PASSWORD = "The current password is not correct."


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


_DUMMY_HASHES: dict[int, str] = {}


async def dummy_hash(rounds: int) -> str:
    """A hash no password matches, at the configured cost, made once per process."""
    if rounds not in _DUMMY_HASHES:
        _DUMMY_HASHES[rounds] = await hash_password(secrets.token_urlsafe(32), rounds)
    return _DUMMY_HASHES[rounds]


async def verify_password_or_dummy(password: str, password_hash: str | None, rounds: int) -> bool:
    """Check `password` against an account's hash, or against the dummy when there is no
    account: a login for a missing account then costs the same bcrypt check as a real one."""
    matches = await verify_password(password, password_hash or await dummy_hash(rounds))
    return matches and password_hash is not None
