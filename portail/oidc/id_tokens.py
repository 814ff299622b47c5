"""ID tokens signed with RS256 by a key parsed once per process.

DOT signs through jwcrypto: a JWK object, a JWS built from the header's and the claims' JSON
strings (the header parsed back and written again), each step checked: about a millisecond
of CPU beside the RSA signature itself, at every exchange. A compact JWS is three base64url
parts (RFC 7515 §7.1); here the header's part is made once per key, the claims' JSON written
compactly, and the signature is `cryptography`'s RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518
§3.3), what jwcrypto calls too. The `kid` is the key's thumbprint, as DOT's and the JWKS's.
"""

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@cache
def key_id(pem: str) -> str:
    """The `kid` of the key `pem`: its JWK thumbprint (RFC 7638), as the JWKS publishes it."""
    return str(jwk_from_pem(pem).thumbprint())


@cache
def _signer(pem: str) -> tuple[rsa.RSAPrivateKey, bytes]:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("OIDC_RSA_PRIVATE_KEY is not an RSA key.")
    header = {"typ": "JWT", "alg": "RS256", "kid": key_id(pem)}
    return key, _b64(json.dumps(header, separators=(",", ":")).encode())


def signed(claims: dict[str, Any]) -> str:
    """The compact JWS of `claims`, signed with RS256 by OIDC_RSA_PRIVATE_KEY."""
    key, header = _signer(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    payload = _b64(json.dumps(claims, separators=(",", ":"), default=str).encode())
    signing_input = header + b"." + payload
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + _b64(signature)).decode()


def access_token_hash(access_token: str) -> str:
    """`at_hash` (OpenID Connect Core §3.1.3.6): the left half of the token's SHA-256,
    base64url, as oauthlib computes it."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return _b64(digest[: len(digest) // 2]).decode()
