"""Helpers of the second-factor tests: an account with a TOTP app, codes computed as an app does."""

import base64
import time

from django_otp.oath import totp

from portail.accounts import mfa
from portail.accounts.models import User
from tests.factories import PASSWORD


def code_at(key_hex: str, offset_steps: int = 0) -> str:
    """The 6-digit code an authenticator app shows for `key_hex` now (+ `offset_steps` steps)."""
    value = totp(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=offset_steps)
    return f"{value:06d}"


def with_totp(user: User, name: str = "Téléphone") -> tuple[str, list[str]]:
    """Enrol a TOTP app through the flow (code of the previous step, so the current one is
    still usable). Returns the key and the recovery codes."""
    key = mfa.new_totp_key()
    codes = mfa.add_totp(user, key, code_at(key, -1), name)
    return key, codes


def password_step(client, user: User, password: str = PASSWORD, **extra):
    return client.post("/", {"email": user.email, "password": password, **extra})


def wait_next_step() -> None:
    """Sleep to the next 30-second step (a code is accepted once per step)."""
    time.sleep(30.2 - time.time() % 30)


def key_from_secret(text: str) -> str:
    """The hex key of the base32 secret a page shows (what a person types in their app)."""
    return base64.b32decode(text.replace(" ", "")).hex()
