"""Tokens and codes: made with `secrets`, stored only as a keyed hash (HMAC-SHA-256).

The key (settings.CODE_HASH_KEY) lives outside the database: a stolen database dump alone gives
no way to test guesses of activation codes, invitation or reset tokens. These secrets carry at
least 60 random bits, so a fast keyed hash is right here, not a password hasher
(docs/decisions/0006-activation-codes.md).
"""

import hashlib
import hmac
import secrets

from django.conf import settings


def keyed_hash(value: str, purpose: str) -> str:
    """Hex HMAC-SHA-256 of `value`, bound to a purpose so one kind of token never matches another."""
    key = settings.CODE_HASH_KEY.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def new_url_token(nbytes: int = 32) -> str:
    """A token for links in emails: `nbytes` random bytes (256 bits by default), URL-safe."""
    return secrets.token_urlsafe(nbytes)
