"""Access and refresh tokens.

`random_token` makes them (DOT's ACCESS_TOKEN_GENERATOR and REFRESH_TOKEN_GENERATOR): 256 random
bits, URL-safe. oauthlib's default draws 30 characters one at a time from a 62-letter alphabet
(178 bits); one call to `secrets` gives more bits for a tenth of the CPU, on every token request.

`checksum` is what DOT stores of them and looks them up by (`token_checksum`).
"""

import hashlib
import secrets

from oauthlib.common import Request


def random_token(request: Request) -> str:
    return secrets.token_urlsafe(32)


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
