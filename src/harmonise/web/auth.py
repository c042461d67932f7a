"""Passwords, sessions, CSRF tokens and the sign-in rate limit (no hand-made crypto).

* Passwords: Argon2id through argon2-cffi (``PasswordHasher`` defaults), rehashed on
  sign-in when the parameters change.
* Sessions: the cookie is Starlette's ``SessionMiddleware`` (itsdangerous-signed, HttpOnly,
  SameSite=strict, Secure unless turned off for plain-HTTP testing) holding a random
  session token and a CSRF token; the database keeps only the token's SHA-256, so signing
  out, a role change or a deactivation ends the session server-side, and a cookie is only
  as good as the live session row behind it.
* CSRF: a synchroniser token per session, in a hidden field of every form, compared in
  constant time on every POST.
* Rate limit: failed sign-ins per user name and per client address in a sliding window;
  over the limit, sign-in is refused (HTTP 429) until the window passes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

MIN_PASSWORD = 12


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def check_password(stored: str, password: str) -> tuple[bool, str | None]:
    """``(matches, new_hash_or_None)``: a new hash when the stored one needs upgrading."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = PasswordHasher()
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None


#: a hash to verify against when the user name is unknown, so timing does not tell
_DUMMY: list[str] = []


def dummy_check(password: str) -> None:
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
    check_password(_DUMMY[0], password)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > 1024:
        return "a password may have at most 1024 characters"
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def same_token(expected: str | None, given: object) -> bool:
    return (isinstance(expected, str) and isinstance(given, str) and bool(expected)
            and hmac.compare_digest(expected.encode(), given.encode()))


@dataclass
class RateLimiter:
    """At most ``attempts`` failures per key in ``window`` seconds (thread-safe)."""

    attempts: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _trim(self, key: str, at: float) -> deque[float]:
        times = self._failures[key]
        while times and at - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> float:
        """Seconds until every key may try again (0: allowed now)."""
        at = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._trim(key, at)
                if len(times) >= self.attempts:
                    wait = max(wait, self.window - (at - times[0]))
        return wait

    def fail(self, *keys: str) -> None:
        at = time.monotonic()
        with self._lock:
            for key in keys:
                self._trim(key, at).append(at)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


__all__ = ["MIN_PASSWORD", "RateLimiter", "check_password", "dummy_check", "hash_password",
           "new_token", "password_problem", "same_token", "token_hash"]
