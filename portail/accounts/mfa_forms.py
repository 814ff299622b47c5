"""Forms of the second-factor pages: a code (TOTP or recovery), a name for a new factor."""

from __future__ import annotations

from django import forms

from portail.accounts.forms import Form

CODE_REQUIRED = "Saisissez le code à 6 chiffres de votre application, ou un code de secours."
NAME_REQUIRED = "Donnez un nom à ce moyen de vérification, par exemple « Téléphone personnel »."


def code_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=20,
        error_messages={"required": CODE_REQUIRED},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )


def name_field() -> forms.CharField:
    return forms.CharField(
        label="Nom de ce moyen de vérification",
        help_text="Pour le reconnaître dans la liste, par exemple « Téléphone personnel ».",
        max_length=64,
        error_messages={"required": NAME_REQUIRED},
    )


class CodeForm(Form):
    """The second step of the login, the step-up and the removal of the last factor."""

    code = code_field(
        "Code de vérification",
        "Le code à 6 chiffres affiché par votre application d'authentification, ou l'un de vos "
        "codes de secours (format : XXXX-XXXX-XXXX).",
    )


class OptionalCodeForm(Form):
    code = code_field(
        "Code de vérification",
        "Demandé seulement pour supprimer votre dernier moyen de vérification : un code de "
        "l'application, ou un code de secours.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False


class TotpAddForm(Form):
    name = name_field()
    code = code_field(
        "Code affiché par l'application",
        "Le code à 6 chiffres que l'application affiche pour ce compte, sans espace.",
    )


class PasskeyNameForm(Form):
    name = name_field()
