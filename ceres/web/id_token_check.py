"""The portal's ID token checked at the callback, the token read once.

mozilla-django-oidc and PyJWT read the token three times (the header for the key, the header
again for the algorithm, then the whole token), and PyJWT checks each base64url character in
a Python loop: about a fifth of the callback's CPU. Here the token is split and decoded once
(the alphabet checked by one regular expression, the encoding required canonical, as PyJWT
requires it), then checked as `jwt.decode` checks it with the options CERES gave it:

- the header a JSON object, `alg` RS256 (OIDC_RP_SIGN_ALGO), `kid` a string, no `crit`;
- the signature RSASSA-PKCS1-v1_5 SHA-256 by the portal's key of that `kid` and `alg`
  (ceres.web.auth.portal_keys);
- the payload a JSON object; `exp`, `iat`, `iss`, `aud`, `sub` present; `exp` not passed,
  `iat` and `nbf` not in the future (30 seconds' leeway); `iss` the issuer, `aud` the client
  id or a list of strings holding it; `sub` and `jti` strings.

Every refusal is a SuspiciousOperation naming the check (the callback's page, signed out).
tests/ceres/test_id_token_check.py compares the answers with `jwt.decode`'s.
"""

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.exceptions import SuspiciousOperation

ALGORITHM = "RS256"
LEEWAY = 30
REQUIRED = ("exp", "iat", "iss", "aud", "sub")
_SEGMENT = re.compile(rb"[A-Za-z0-9_-]*")

Claims = dict[str, Any]
# (kid, alg) → the portal's key, or None when it has none of that name.
KeyFinder = Callable[[str, str], jwt.PyJWK | None]


def _decoded(segment: bytes, name: str) -> bytes:
    # PyJWT's rules without its per-character loop: the alphabet, no impossible length, and the
    # canonical encoding (no stray bits in the last character). Padding ('=') is refused: the
    # portal never sends it.
    if len(segment) % 4 == 1 or not _SEGMENT.fullmatch(segment):
        raise SuspiciousOperation(f"ID token rejected: invalid {name}")
    try:
        decoded = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SuspiciousOperation(f"ID token rejected: invalid {name}") from exc
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != segment:
        raise SuspiciousOperation(f"ID token rejected: invalid {name}")
    return decoded


def _json_object(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise SuspiciousOperation(f"ID token rejected: invalid {name}") from exc
    if not isinstance(value, dict):
        raise SuspiciousOperation(f"ID token rejected: invalid {name}")
    return value


def _integer(value: Any) -> int | None:
    # PyJWT takes int() of the value: numbers and numeric strings.
    try:
        return int(value)
    except (ValueError, TypeError, OverflowError):
        return None


def verified(token: str | bytes, find_key: KeyFinder, issuer: str, audience: str) -> Claims:
    """The ID token's claims, once its signature and claims are checked; else SuspiciousOperation."""
    if not isinstance(token, (str, bytes)):  # a token response without `id_token`
        raise SuspiciousOperation("ID token rejected: none")
    raw = token.encode() if isinstance(token, str) else token
    parts = raw.split(b".")
    if len(parts) != 3:
        raise SuspiciousOperation("ID token rejected: not a compact JWS")
    header = _json_object(_decoded(parts[0], "header"), "header")
    if header.get("alg") != ALGORITHM:
        raise SuspiciousOperation("Unexpected ID token algorithm.")
    kid = header.get("kid", "")
    if not isinstance(kid, str) or "crit" in header or header.get("b64", True) is not True:
        raise SuspiciousOperation("ID token rejected: header")
    payload = _decoded(parts[1], "payload")
    signature = _decoded(parts[2], "signature")
    key = find_key(kid, ALGORITHM)
    if key is None:
        raise SuspiciousOperation("Could not find a valid JWKS.")
    public_key = key.key
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SuspiciousOperation("ID token rejected: not an RSA key")
    try:
        public_key.verify(
            signature, parts[0] + b"." + parts[1], padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as exc:
        raise SuspiciousOperation("ID token rejected: InvalidSignatureError") from exc
    claims = _json_object(payload, "payload")
    _check_claims(claims, issuer, audience)
    return claims


def _check_claims(claims: Claims, issuer: str, audience: str) -> None:
    for name in REQUIRED:
        if claims.get(name) is None:
            raise SuspiciousOperation(f"ID token rejected: MissingRequiredClaimError {name}")
    now = time.time()
    exp = _integer(claims["exp"])
    if exp is None or exp <= now - LEEWAY:
        raise SuspiciousOperation("ID token rejected: ExpiredSignatureError")
    iat = _integer(claims["iat"])
    if iat is None or iat > now + LEEWAY:
        raise SuspiciousOperation("ID token rejected: ImmatureSignatureError (iat)")
    if "nbf" in claims:
        nbf = _integer(claims["nbf"])
        if nbf is None or nbf > now + LEEWAY:
            raise SuspiciousOperation("ID token rejected: ImmatureSignatureError (nbf)")
    if claims["iss"] != issuer:
        raise SuspiciousOperation("ID token rejected: InvalidIssuerError")
    audiences = claims["aud"]
    if isinstance(audiences, str):
        audiences = [audiences]
    if (
        not isinstance(audiences, list)
        or any(not isinstance(a, str) for a in audiences)
        or audience not in audiences
    ):
        raise SuspiciousOperation("ID token rejected: InvalidAudienceError")
    if not isinstance(claims["sub"], str) or not isinstance(claims.get("jti", ""), str):
        raise SuspiciousOperation("ID token rejected: InvalidSubjectError or InvalidJTIError")
