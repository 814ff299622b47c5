"""How OAuth client secrets are stored: a keyed HMAC-SHA-256, not a password hasher.

django-oauth-toolkit runs client secrets through Django's password hasher by default (PBKDF2 with
a million iterations, or argon2id here): every token request would then cost one password check,
about 250 ms of CPU, capping the token endpoint near 4 requests per second per core. Those hashers
are slow on purpose, to make guessing *human* passwords expensive. A client secret is 128
characters drawn by `secrets` from 62 symbols (over 700 random bits): nobody guesses it, so the
slowness buys nothing. What a stolen database must not give is the secret itself: a keyed hash
(the key, settings.CODE_HASH_KEY, lives outside the database) keeps it unusable and unguessable.
See docs/decisions/0009-oidc-client-secret-hmac.md.

Listed last in PASSWORD_HASHERS, so Django recognises stored secrets (`identify_hasher`) and
never hashes a user's password with it.
"""

from typing import TYPE_CHECKING, Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare

from portail.core.secrets import keyed_hash

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

PURPOSE = "oauth-client-secret"


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "client_secret_hmac_sha256"

    def salt(self) -> str:
        return super().salt()

    def encode(self, password: str, salt: str) -> str:
        if not salt or "$" in salt:
            raise ValueError("A salt without '$' is required.")
        digest = keyed_hash(f"{salt}:{password}", PURPOSE)
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        if algorithm != self.algorithm:
            raise ValueError("Not a client secret hash.")
        return {"algorithm": algorithm, "salt": salt, "hash": digest}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> "dict[str | StrPromise, Any]":
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "salt": mask_hash(decoded["salt"], show=2),
            "hash": mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return False

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
