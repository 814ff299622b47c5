"""Random strings (the sign-in's state, nonce and PKCE verifier, the session keys) drawn in a few
calls: Django's `get_random_string` calls `secrets.choice` once per character, about ten calls a
character — 1,500 of the 3,800 calls of CERES' first page (state, nonce, verifier, session key).

The same strings: `length` characters of `alphabet`, each uniform and independent, from the same
system generator. `secrets.token_bytes` is mapped onto the alphabet by `bytes.translate` (in C):
the byte values below the largest multiple of the alphabet's size map evenly, the others are
dropped (kept, they would favour the first characters); more bytes are drawn when too few are left.
"""

import secrets
from functools import cache

from django.utils.crypto import RANDOM_STRING_CHARS


@cache
def _translation(alphabet: str) -> tuple[bytes, bytes]:
    even = 256 - 256 % len(alphabet)
    table = bytes(
        ord(alphabet[value % len(alphabet)]) if value < even else 0 for value in range(256)
    )
    return table, bytes(range(even, 256))


def random_string(length: int, alphabet: str = RANDOM_STRING_CHARS) -> str:
    """Django's get_random_string(length, alphabet), for an ASCII alphabet of 2 to 256 characters."""
    table, dropped = _translation(alphabet)
    drawn = b""
    while len(drawn) < length:
        drawn += secrets.token_bytes(length + length // 2 + 8).translate(table, dropped)
    return drawn[:length].decode("ascii")
