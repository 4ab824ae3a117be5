"""Link tokens and one-time codes: random, stored only as hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["CODE_DIGITS", "code_matches", "hash_code", "hash_token", "looks_like_token",
           "new_code", "new_token"]

TOKEN_BYTES = 32
"""256 random bits per link (the issue asks for at least 128)."""
CODE_DIGITS = 6
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> tuple[str, str]:
    """A fresh link token and the hash the registry keeps."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a link token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def looks_like_token(text: str) -> bool:
    """The shape of a token (43 URL-safe characters), checked before any lookup."""
    return bool(_TOKEN_RE.match(text))


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(code: str, salt: str | None = None) -> str:
    """``salt$sha256(salt + code)``: what the registry keeps of a code."""
    salt = salt or secrets.token_hex(16)
    return f"{salt}${hashlib.sha256((salt + code).encode()).hexdigest()}"


def code_matches(code: str, stored: str | None) -> bool:
    """Does ``code`` match the stored hash? Constant time in the compared digests."""
    if not stored or "$" not in stored:
        return False
    salt = stored.split("$", 1)[0]
    given = code.strip()
    if not (len(given) == CODE_DIGITS and given.isdigit()):
        given = "x" * CODE_DIGITS  # still compare, so a malformed code costs the same
    return hmac.compare_digest(hash_code(given, salt), stored)
