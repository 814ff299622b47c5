"""Access and refresh tokens: 256 random bits, URL-safe (DOT's ACCESS_TOKEN_GENERATOR and
REFRESH_TOKEN_GENERATOR).

oauthlib's default draws 30 characters one at a time from a 62-letter alphabet (178 bits); one
call to `secrets` gives more bits for a tenth of the CPU, on every token request.
"""

import secrets


def random_token(request) -> str:
    return secrets.token_urlsafe(32)
