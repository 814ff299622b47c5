"""The CSRF middleware's random strings drawn in one call to the system's generator.

Django masks the CSRF secret anew on every page with a form (the BREACH defence): a fresh string
of 32 characters from `get_random_string`, which calls `secrets.choice` once per character —
32 draws, 50 to 80 µs of the page, the dearest part of the CSRF middleware. `random_csrf_string`
draws the same thing, 32 characters each uniform over Django's 62 and from the same system
generator (`secrets.token_bytes`): a byte below 248 (4 × 62) gives a character, a byte above is
drawn again (kept, it would favour the first eight characters). Django's own masking, checks and
cookie are unchanged: this only replaces `django.middleware.csrf._get_new_csrf_string` (used for
the mask and for a new secret), when Django's constants are the ones it was written for.
"""

import secrets

from django.middleware import csrf

_CHARS = csrf.CSRF_ALLOWED_CHARS
_LENGTH = csrf.CSRF_SECRET_LENGTH
_BELOW = 256 - 256 % len(_CHARS)  # 248: each character 4 byte values
# Each byte below _BELOW → its character, each above → deleted (bytes.translate, in C).
_TABLE = bytes(ord(_CHARS[b % len(_CHARS)]) if b < _BELOW else 0 for b in range(256))
_ABOVE = bytes(range(_BELOW, 256))


def random_alphanumeric(length: int) -> str:
    """`length` characters of `_CHARS` (a–z, A–Z, 0–9), each uniform and independent; also the
    portal's authorization codes (portail.oidc.trusted_authorization)."""
    drawn = b""
    while len(drawn) < length:
        # length + 8 bytes give `length` below 248 with a probability above 99.9 % (for 30–32).
        drawn += secrets.token_bytes(length + 8).translate(_TABLE, _ABOVE)
    return drawn[:length].decode("ascii")


def random_csrf_string() -> str:
    """`_LENGTH` characters of `_CHARS`, each uniform and independent."""
    return random_alphanumeric(_LENGTH)


def install() -> None:
    """Replace Django's drawing when it is the one this module reproduces (CoreConfig.ready)."""
    if (_CHARS, _LENGTH) == ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 32):
        csrf._get_new_csrf_string = random_csrf_string
