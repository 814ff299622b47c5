"""Forms of the person's pages: activation code, access request, and a gestionnaire's answer to
an access request."""

from typing import Any, cast

from django import forms
from dsfr.forms import DsfrBaseForm

from portail.companies.siret import normalize_siret, validate_siret
from portail.core.forms import BoundedTextMixin
from portail.demarches.codes import CODE_LENGTH, is_well_formed, never_in_a_code, normalize_code
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import MESSAGE_MAX_LENGTH

# The alphabet of `portail.demarches.codes`, in words (a test holds them together).
CODE_CHARACTERS = "les chiffres de 2 à 9 et les lettres de A à Z sauf I et O"
CODE_FORMAT_MESSAGE = (
    f"Le code d'activation comporte {CODE_LENGTH} caractères : {CODE_CHARACTERS}, "
    "par exemple K7QM-3XRT-W9PD (tirets et majuscules facultatifs)."
)
LEFT_OUT_MESSAGE = (
    "Un code d'activation ne contient jamais {found} : ses {length} caractères sont "
    "{characters}, pour qu'on ne puisse pas les confondre. Vérifiez le code sur le courrier."
)
_LEFT_OUT_NAMES = {
    "0": "le chiffre 0",
    "1": "le chiffre 1",
    "I": "la lettre I",
    "O": "la lettre O",
}


class SiretField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "error_messages", {"required": "Saisissez le numéro SIRET (14 chiffres)."}
        )
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        )

    def to_python(self, value: Any) -> str:
        return normalize_siret(super().to_python(value))

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value:
            validate_siret(value)


class ActivationForm(BoundedTextMixin, DsfrBaseForm):  # type: ignore[misc]  # django-dsfr ships no types
    siret = SiretField(label="SIRET Enregistré")
    code = forms.CharField(
        label="Code d'activation",
        max_length=40,
        error_messages={"required": "Saisissez le code d'activation reçu par courrier."},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if left_out := never_in_a_code(code):
            found = " ni ".join(_LEFT_OUT_NAMES[ch] for ch in left_out)
            raise forms.ValidationError(
                LEFT_OUT_MESSAGE.format(
                    found=found, length=CODE_LENGTH, characters=CODE_CHARACTERS
                ),
                code="left_out",
            )
        if not is_well_formed(normalize_code(code)):
            raise forms.ValidationError(CODE_FORMAT_MESSAGE, code="format")
        return code


class AccessRequestForm(BoundedTextMixin, DsfrBaseForm):  # type: ignore[misc]  # django-dsfr ships no types
    siret = SiretField(
        label="SIRET de l'établissement",
        help_text="L'établissement pour lequel vous demandez l'accès (14 chiffres).",
    )
    role: "forms.ModelChoiceField[Role]" = forms.ModelChoiceField(
        label="Rôle souhaité",
        queryset=Role.objects.none(),  # the démarche's roles: set by __init__
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Choisissez le rôle que vous souhaitez.",
            "invalid_choice": "Choisissez un rôle de la liste.",
        },
    )
    message = forms.CharField(
        label="Message au gestionnaire",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, demarche: Demarche, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Role]", self.fields["role"]).queryset = demarche.roles.all()


class AcceptForm(BoundedTextMixin, forms.Form):
    role: "forms.ModelChoiceField[Role]" = forms.ModelChoiceField(
        queryset=Role.objects.none(), required=False
    )

    def __init__(self, *args: Any, demarche: Demarche, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Role]", self.fields["role"]).queryset = demarche.roles.all()


class RefuseForm(BoundedTextMixin, forms.Form):
    reason = forms.CharField(required=False, max_length=MESSAGE_MAX_LENGTH)
