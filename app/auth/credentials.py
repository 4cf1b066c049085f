"""Secrets: random API tokens, session ids and links (stored as SHA-256), and Argon2id passwords.

Tokens carry 32 random bytes, so a fast hash cannot be brute-forced and lets every request be checked
in microseconds; people's passwords are guessable, so they get Argon2id (argon2-cffi's defaults, the
RFC 9106 low-memory profile)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_MARK = "evb_"
TOKEN_BYTES = 32
PREFIX_LENGTH = 12  # "evb_" and 8 random characters: the row's lookup key, shown in lists
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_token() -> tuple[str, str, str]:
    """(token shown once, prefix stored in clear, hash stored)."""
    token = TOKEN_MARK + secrets.token_urlsafe(TOKEN_BYTES)
    return token, token[:PREFIX_LENGTH], digest(token)


def looks_like_api_token(value: str) -> bool:
    return value.startswith(TOKEN_MARK) and PREFIX_LENGTH < len(value) <= 128


def same_digest(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)


def new_secret() -> str:
    """A session id, a CSRF token or a sign-in link: 32 random bytes, url-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored_hash: str | None) -> bool:
    """Constant work whether or not the user has a password hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
