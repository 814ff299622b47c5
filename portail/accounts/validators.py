"""Checks of what a person types: passwords (AUTH_PASSWORD_VALIDATORS) and personal names, shared
by every form where a name is typed (sign-up, "Mon compte", the agents' tools)."""

import unicodedata
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    # The user model validates its names here: no import of it at run time.
    from portail.accounts.models import User


class MaximumLengthValidator:
    """At most 128 characters: long enough for any passphrase, short enough to bound hashing cost."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user: "User | None" = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"Ce mot de passe est trop long : {self.max_length} caractères au maximum.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Votre mot de passe ne doit pas dépasser {self.max_length} caractères."


# Between the letters of a name: spaces, hyphens (and the typographic ones), apostrophes
# (straight and typographic), dots ("J.-P.").
NAME_PUNCTUATION = frozenset(" -\u2010\u2011'\u2019\u02bc.")
PERSON_NAME_MESSAGE = (
    "Saisissez un nom fait de lettres, avec si besoin des espaces, traits d’union, "
    "apostrophes ou points (par exemple Jean-Pierre ou O’Connor)."
)


def _is_letter(character: str) -> bool:
    # L*: letters of any script; M*: the accents a name written decomposed carries.
    return unicodedata.category(character)[0] in "LM"


def validate_person_name(value: str) -> None:
    """A first or last name: letters of any language, spaces, hyphens, apostrophes, dots; at
    least one letter. Markup, digits and other signs are refused in French."""
    if not value:
        return
    if not any(_is_letter(c) for c in value) or not all(
        _is_letter(c) or c in NAME_PUNCTUATION for c in value
    ):
        raise ValidationError(PERSON_NAME_MESSAGE, code="person_name")
