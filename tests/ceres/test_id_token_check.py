"""CERES' ID token check (ceres.web.id_token_check) against PyJWT's `jwt.decode` with the options
CERES gave it before: the same tokens accepted with the same claims, the same ones refused."""

import base64
import json
import time
from functools import cache

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.core.exceptions import SuspiciousOperation

from ceres.web import id_token_check

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)

ISSUER = "https://portail.example/o"
CLIENT = "ceres-client"
KID = "key-1"
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PEM = _RSA.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
_OTHER_PEM = _OTHER.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
_JWK = jwt.PyJWK(
    {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_RSA.public_key())), "kid": KID}, "RS256"
)


def _find(kid: str, alg: str) -> jwt.PyJWK | None:
    return _JWK if (kid, alg) == (KID, "RS256") else None


def _claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "8c1f0a5e-3b7e-4d4e-9a51-5c8f6f0f2d11",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-0S6_WzA2Mj",
        "jti": "a0c6c8b5",
        "email": "une@exemple.fr",
        "habilitations": [{"siret": "90310000600019", "roles": [{"code": "x"}]}],
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _signed(claims: dict[str, object], key: bytes = _PEM, **headers: object) -> str:
    header = {"kid": KID, **headers}
    return jwt.encode(claims, key, algorithm="RS256", headers=header)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed(header: dict[str, object], claims: dict[str, object]) -> str:
    """A header PyJWT would not write, signed by the portal's key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _RSA.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def _pyjwt(token: str) -> dict[str, object] | None:
    """CERES' former check: the key by (kid, alg) of the header, then jwt.decode."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            return None
        key = _find(str(header.get("kid", "")), str(header.get("alg", "")))
        if key is None:
            return None
        claims: dict[str, object] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=CLIENT,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            leeway=30,
        )
    except jwt.PyJWTError:
        return None
    return claims


def _ours(token: str) -> dict[str, object] | None:
    try:
        return id_token_check.verified(token, _find, issuer=ISSUER, audience=CLIENT)
    except SuspiciousOperation:
        return None


@cache
def _tokens() -> dict[str, str]:
    good = _signed(_claims())
    head, body, signature = good.split(".")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return {
        "valid": good,
        "aud in a list": _signed(_claims(aud=["autre", CLIENT])),
        "expired": _signed(_claims(exp=int(time.time()) - 31)),
        "expired within the leeway": _signed(_claims(exp=int(time.time()) - 10)),
        "iat in the future": _signed(_claims(iat=int(time.time()) + 120)),
        "iat within the leeway": _signed(_claims(iat=int(time.time()) + 10)),
        "nbf in the future": _signed(_claims(nbf=int(time.time()) + 120)),
        "exp not a number": _signed(_claims(exp="demain")),
        "exp a numeric string": _signed(_claims(exp=str(int(time.time()) + 300))),
        "another issuer": _signed(_claims(iss="https://ailleurs.example/o")),
        "another audience": _signed(_claims(aud="autre")),
        "aud a list with a number": _signed(_claims(aud=[CLIENT, 3])),
        "no sub": _signed(_claims(sub=None)),
        "no exp": _signed(_claims(exp=None)),
        "no iat": _signed(_claims(iat=None)),
        "no iss": _signed(_claims(iss=None)),
        "no aud": _signed(_claims(aud=None)),
        "sub a number": _signed(_claims(sub=12)),
        "jti a number": _signed(_claims(jti=12)),
        "another key": _signed(_claims(), _OTHER_PEM),
        "unknown kid": _signed(_claims(), kid="key-2"),
        "kid a number": _hand_signed({"alg": "RS256", "kid": 2}, _claims()),
        "HS256": jwt.encode(_claims(), "s" * 32, algorithm="HS256", headers={"kid": KID}),
        "ES256": jwt.encode(_claims(), ec_key, algorithm="ES256", headers={"kid": KID}),
        "alg none": f"{_b64(json.dumps({'alg': 'none', 'kid': KID}).encode())}.{body}.",
        "payload changed": f"{head}.{_b64(json.dumps(_claims(sub='autre')).encode())}.{signature}",
        "signature cut": f"{head}.{body}.{signature[:-4]}",
        "junk in the signature": f"{head}.{body}.{signature[:-2]}!!",
        "stray bits in the signature": f"{head}.{body}.{signature[:-1]}"
        + ("B" if signature[-1] == "A" else "A"),
        "two parts": f"{head}.{body}",
        "four parts": f"{good}.{signature}",
        "header not JSON": f"{_b64(b'nope')}.{body}.{signature}",
        "header a list": f"{_b64(b'[1]')}.{body}.{signature}",
        "crit header": _signed(_claims(), crit=["exp"]),
        "empty": "",
    }


@pytest.mark.parametrize("name", list(_tokens()))
def test_same_answer_as_pyjwt(name: str) -> None:
    token = _tokens()[name]
    assert _ours(token) == _pyjwt(token), name


def test_the_valid_tokens_are_accepted() -> None:
    tokens = _tokens.__wrapped__()  # made now: the leeway's cases depend on the moment
    for name in ("valid", "aud in a list", "expired within the leeway", "iat within the leeway"):
        assert _ours(tokens[name]) is not None, name


def test_no_token_is_refused() -> None:
    with pytest.raises(SuspiciousOperation):
        id_token_check.verified(None, _find, issuer=ISSUER, audience=CLIENT)  # type: ignore[arg-type]
