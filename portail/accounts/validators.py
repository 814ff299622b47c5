from django.core.exceptions import ValidationError

from portail.accounts.models import User


class MaximumLengthValidator:
    """At most 128 characters: long enough for any passphrase, short enough to bound hashing cost."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user: User | None = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"Ce mot de passe est trop long : {self.max_length} caractères au maximum.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Votre mot de passe ne doit pas dépasser {self.max_length} caractères."
