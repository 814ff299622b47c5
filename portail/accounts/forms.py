"""Forms of the accounts pages. Labels are the manual's words; errors are French, on the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import phonenumbers
from django import forms
from django.contrib.auth import password_validation
from dsfr.forms import DsfrBaseForm

from portail.accounts import altcha
from portail.accounts.models import User
from portail.accounts.validators import validate_person_name
from portail.companies.lookup import lookup_url_template
from portail.companies.registry import EstablishmentData
from portail.companies.siret import normalize_siret, siret_error
from portail.core.forms import BoundedTextMixin, SharedUnboundFields
from portail.core.ratelimit import UNAVAILABLE

if TYPE_CHECKING:
    # django-dsfr ships no types: its form is checked as the Django `Form` it extends.
    DsfrForm = forms.Form
else:
    DsfrForm = DsfrBaseForm


class Form(BoundedTextMixin, DsfrForm):
    """The accounts' forms: DSFR, and text over its bound refused in French, not cut."""


ESTABLISHMENT_FIELDS = ("siret", "company_name", "address", "commune")
COMPANY_NAME_NEEDED = "Saisissez la raison sociale de votre établissement."
PASSWORDS_DIFFER = "Les deux mots de passe ne sont pas identiques."
ALTCHA_MESSAGES = {
    "missing": "Confirmez que vous n'êtes pas un robot : cochez la case « Je ne suis pas un robot ».",
    "malformed": "La vérification anti-robot a échoué : cochez de nouveau la case.",
    "invalid": "La vérification anti-robot a échoué : cochez de nouveau la case.",
    "expired": "La vérification anti-robot a expiré : cochez de nouveau la case.",
    "replayed": "Cette vérification anti-robot a déjà servi : cochez de nouveau la case.",
}


def _email_field(label: str, **attrs: str) -> forms.EmailField:
    return forms.EmailField(
        label=label,
        max_length=254,
        error_messages={
            "required": "Saisissez votre adresse électronique.",
            "invalid": "Saisissez une adresse électronique valide, par exemple nom@domaine.fr.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false", **attrs}),
    )


def _password_field(label: str, autocomplete: str, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=4096,  # the validator says "128 at most" in French; this only bounds the input
        error_messages={"required": "Saisissez votre mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        **kwargs,
    )


class LoginForm(SharedUnboundFields, Form):
    email = _email_field("Adresse électronique", placeholder="Entrez votre adresse électronique")
    password = _password_field("Mot de passe", "current-password")
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].widget.attrs["placeholder"] = "Entrez votre mot de passe"


class EmailOnlyForm(Form):
    email = _email_field("Adresse électronique")


def clean_phone(value: str) -> str:
    """French numbers by default ('06 12 34 56 78'), international ones with '+'. E.164 stored."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(
            "Saisissez un numéro de téléphone valide, par exemple 06 12 34 56 78.",
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A French number outside 08: phonenumbers' national format is "0X XX XX XX XX" (checked for
# every two-digit prefix by tests/accounts/test_display_phone.py). Parsing it costs about 100 µs
# of "Mon compte".
_FRENCH_GROUPED = re.compile(r"\+33([1-79])(\d\d)(\d\d)(\d\d)(\d\d)")


def display_phone(stored: str) -> str:
    """How a person reads their number: '02 40 00 00 00' in France, '+32 2 123 45 67' abroad."""
    french = _FRENCH_GROUPED.fullmatch(stored)
    if french:
        return "0" + " ".join(french.groups())
    try:
        number = phonenumbers.parse(stored, "FR")
    except phonenumbers.NumberParseException:
        return stored
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class NewPasswordMixin:
    """Two password fields checked against each other and the validators (AUTH_PASSWORD_VALIDATORS)."""

    password_user: User | None = None
    add_error: Callable[..., None]  # the form's

    def _check_new_password(self, cleaned: dict[str, Any], user: User | None) -> None:
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", PASSWORDS_DIFFER)
            return
        if password1:
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)


class PersonMixin:
    """Cleans the person's names (trimmed) and phone (E.164), on sign-up and in "Mon compte"."""

    cleaned_data: dict[str, Any]  # the form's

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean_last_name(self) -> str:
        return str(self.cleaned_data["last_name"]).strip()

    def clean_first_name(self) -> str:
        return str(self.cleaned_data["first_name"]).strip()


class SignupForm(PersonMixin, NewPasswordMixin, Form):
    """ "Créer votre compte". The establishment block is for PROFESSIONNEL and PARTENAIRE."""

    data: Any  # the bound data, copied to prefill the establishment (see clean)
    altcha_error = ""  # the anti-robot check's message, shown by its own block
    altcha_kept = ""  # a valid solution posted: the form shown again sends it again
    altcha_spent = False  # this request spent it (given back if no account is created)
    unavailable = False  # the cache did not answer: the solution could not be spent (503)

    account_type = forms.ChoiceField(
        choices=User.AccountType.choices,
        initial=User.AccountType.PROFESSIONNEL,
        widget=forms.HiddenInput,
    )
    siret = forms.CharField(
        label="SIRET *",
        required=False,
        max_length=32,
        help_text="14 chiffres, par exemple 123 456 789 00012",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "data-siret-lookup": ""}
        ),
    )
    company_name = forms.CharField(
        label="Raison sociale",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "organization", "data-siret-fill": "name"}),
    )
    address = forms.CharField(
        label="Adresse",
        required=False,
        max_length=255,
        widget=forms.TextInput(
            attrs={"autocomplete": "street-address", "data-siret-fill": "address"}
        ),
    )
    commune = forms.CharField(
        label="Commune",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"data-siret-fill": "commune_line"}),
    )
    email = _email_field("Email")
    password1 = _password_field(
        "Mot de passe",
        "new-password",
        help_text="12 caractères au minimum, 128 au maximum. Une phrase de passe est idéale.",
    )
    password2 = _password_field("Confirmez votre mot de passe", "new-password")
    civilite = forms.ChoiceField(
        label="Civilité",
        choices=User.Civilite.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez votre civilité."},
    )
    last_name = forms.CharField(
        label="Nom",
        max_length=150,
        validators=[validate_person_name],
        error_messages={"required": "Saisissez votre nom."},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    first_name = forms.CharField(
        label="Prénom",
        max_length=150,
        validators=[validate_person_name],
        error_messages={"required": "Saisissez votre prénom."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    phone = forms.CharField(
        label="Téléphone",
        max_length=32,
        error_messages={"required": "Saisissez votre numéro de téléphone."},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, lookup_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The live lookup (companies/js/siret-lookup.js) asks this URL as 14 digits are typed.
        self.fields["siret"].widget.attrs["data-siret-lookup-url"] = lookup_url_template()
        self.lookup_only = lookup_only
        self.registry_unavailable = False

    @property
    def is_professional(self) -> bool:
        value = self.data.get("account_type") if self.is_bound else self.initial.get("account_type")
        return bool((value or self.fields["account_type"].initial) != User.AccountType.PARTICULIER)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if (
            cleaned.get("account_type", User.AccountType.PROFESSIONNEL)
            != User.AccountType.PARTICULIER
        ):
            self._clean_siret(cleaned)
        if self.lookup_only:
            # Only the establishment is looked at: the rest is kept as typed, without errors yet.
            for name in list(self.errors):
                if name not in ESTABLISHMENT_FIELDS:
                    del self.errors[name]
            return cleaned
        candidate = User(
            email=cleaned.get("email", ""),
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )
        self._check_new_password(cleaned, candidate)
        # Spent only when everything else is valid; with other errors only checked, and kept.
        payload = self.data.get(altcha.FIELD_NAME)
        spend = not self.errors
        verdict = altcha.verify(payload, spend=spend)
        if verdict.ok:
            self.altcha_kept, self.altcha_spent = payload, spend
        elif verdict.reason == "unavailable":  # kept: the same form can be sent again later
            self.altcha_kept, self.altcha_spent = payload, False
            self.add_error(None, UNAVAILABLE)
            self.unavailable = True
        elif spend:
            self.add_error(None, ALTCHA_MESSAGES[verdict.reason])
            self.altcha_error = ALTCHA_MESSAGES[verdict.reason]
        return cleaned

    def give_back_altcha(self) -> None:
        """No account was created: the solution this form spent is valid again (and kept)."""
        if self.altcha_spent:
            altcha.give_back(self.altcha_kept)
            self.altcha_spent = False

    def _clean_siret(self, cleaned: dict[str, Any]) -> None:
        """The SIRET's format only: the registry is asked by the sign-up flow, not here."""
        siret = normalize_siret(cleaned.get("siret", ""))
        if not siret:
            self.add_error("siret", "Saisissez le SIRET de votre établissement.")
            return
        error = siret_error(siret)
        if error:
            self.add_error("siret", error)
            return
        cleaned["siret"] = siret

    def show_establishment(
        self, found: EstablishmentData | None, *, registry_down: bool = False
    ) -> None:
        """Prefill the establishment with what the registry knows (`found`), for the person to
        check; or, the registry not answering, ask them to type it."""
        if registry_down:
            self.registry_unavailable = True
            if not self.lookup_only and not self.cleaned_data.get("company_name", "").strip():
                self.add_error("company_name", COMPANY_NAME_NEEDED)
        if found is not None:
            self.data = self.data.copy()
            self.data["siret"] = found.siret
            self.data["company_name"] = found.name
            self.data["address"] = found.address
            self.data["commune"] = found.commune_line


class CurrentPasswordMixin:
    """`current_password`, checked against the account's (`self.user`)."""

    user: User
    cleaned_data: dict[str, Any]  # the form's

    def clean_current_password(self) -> str:
        value = str(self.cleaned_data["current_password"])
        if not self.user.check_password(value):
            raise forms.ValidationError("Le mot de passe actuel est incorrect.")
        return value


class UserForm(Form):
    """A form about one account (`user`), passed first."""

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)


class SetPasswordForm(NewPasswordMixin, UserForm):
    password1 = _password_field(
        "Nouveau mot de passe",
        "new-password",
        help_text="12 caractères au minimum, 128 au maximum. Une phrase de passe est idéale.",
    )
    password2 = _password_field("Confirmez votre mot de passe", "new-password")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        self._check_new_password(cleaned, self.user)
        return cleaned


class PasswordChangeForm(CurrentPasswordMixin, SetPasswordForm):
    current_password = _password_field("Mot de passe actuel", "current-password")

    field_order = ["current_password", "password1", "password2"]


class ProfileForm(PersonMixin, Form):
    civilite = SignupForm.base_fields["civilite"]
    last_name = SignupForm.base_fields["last_name"]
    first_name = SignupForm.base_fields["first_name"]
    phone = SignupForm.base_fields["phone"]


class EmailChangeForm(CurrentPasswordMixin, UserForm):
    new_email = _email_field("Nouvelle adresse électronique")
    current_password = _password_field("Mot de passe actuel", "current-password")

    def clean_new_email(self) -> str:
        value = User.objects.normalize_email(self.cleaned_data["new_email"])
        if value == self.user.email:
            raise forms.ValidationError("C'est déjà l'adresse de votre compte.")
        return value


class DeleteAccountForm(CurrentPasswordMixin, UserForm):
    current_password = _password_field("Mot de passe actuel", "current-password")
