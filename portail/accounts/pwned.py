"""Passwords already published in a data breach (Have I Been Pwned's Pwned Passwords).

The range API keeps the password on the server (k-anonymity): only the first 5 hexadecimal
characters of its SHA-1 are sent; the service answers every suffix it knows under that prefix
(`SUFFIX:COUNT` lines, CRLF), padded with fake suffixes of count 0 (`Add-Padding: true`) so that
the size of the answer says nothing either. The suffix is compared here.

Off while `PWNED_PASSWORDS_URL` is empty. The service is a help, not a gate: a timeout or an error
lets the password through and is logged (without the password, its hash or the prefix).
"""

import hashlib
import logging
from typing import TYPE_CHECKING

import requests
from django.conf import settings
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from portail.accounts.models import User

logger = logging.getLogger("portail.accounts.pwned")

USER_AGENT = "portail-mes-demarches (verification des mots de passe)"


class PwnedPasswordsUnavailableError(Exception):
    """The service did not answer in time or answered something unreadable."""


def breach_count(password: str) -> int | None:
    """How many times `password` appears in the breaches the service knows; None when off."""
    base_url = settings.PWNED_PASSWORDS_URL.rstrip("/")
    if not base_url:
        return None
    digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    try:
        response = requests.get(
            f"{base_url}/range/{prefix}",
            headers={"Add-Padding": "true", "User-Agent": USER_AGENT},
            timeout=settings.PWNED_PASSWORDS_TIMEOUT,
        )
        response.raise_for_status()
        body = response.text
    except requests.RequestException as error:
        raise PwnedPasswordsUnavailableError(type(error).__name__) from error
    for line in body.splitlines():
        candidate, _, count = line.strip().partition(":")
        if candidate.upper() == suffix:
            try:
                return int(count)  # 0 for a padding line
            except ValueError as error:
                raise PwnedPasswordsUnavailableError("unreadable count") from error
    return 0


class PwnedPasswordValidator:
    """AUTH_PASSWORD_VALIDATORS entry: refuses a password seen in a published breach."""

    def validate(self, password: str, user: "User | None" = None) -> None:
        try:
            count = breach_count(password)
        except PwnedPasswordsUnavailableError as error:
            logger.warning("Pwned Passwords unavailable (%s): password accepted unchecked", error)
            return
        if count:
            raise ValidationError(
                "Ce mot de passe figure dans des fuites de données publiées sur Internet "
                "(d'autres personnes l'ont utilisé sur des sites piratés) : il fait partie des "
                "premiers que les pirates essaient. Choisissez-en un autre, que vous n'utilisez "
                "sur aucun autre site.",
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return "Votre mot de passe ne doit pas figurer dans une fuite de données connue."
