"""Fixtures of the account tests."""

from dataclasses import dataclass

import bcrypt
import pytest


@dataclass
class BcryptCalls:
    """How many hashes and checks bcrypt ran: the cost a stopwatch would see."""

    hashes: int = 0
    checks: int = 0

    def clear(self) -> None:
        self.hashes = self.checks = 0


@pytest.fixture
def bcrypt_calls(monkeypatch: pytest.MonkeyPatch) -> BcryptCalls:
    """Counts calls into the real bcrypt (a spy, not a stand-in)."""
    calls = BcryptCalls()
    real_hashpw, real_checkpw = bcrypt.hashpw, bcrypt.checkpw

    def hashpw(password: bytes, salt: bytes) -> bytes:
        calls.hashes += 1
        return real_hashpw(password, salt)

    def checkpw(password: bytes, hashed_password: bytes) -> bool:
        calls.checks += 1
        return real_checkpw(password, hashed_password)

    monkeypatch.setattr(bcrypt, "hashpw", hashpw)
    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    return calls
