"""Form pieces for the SIRET, shared by the sign-up, activation and back-office forms."""

from typing import Any

from django import forms

from portail.companies.siret import normalize_siret, siret_error


class SiretField(forms.CharField):
    """A SIRET input: accepts spaces and dots, cleans to 14 digits, French messages.

    Renders with `inputmode="numeric"` and `autocomplete="off"`; add the `data-siret-lookup`
    attributes (see siret-lookup.js) in the form's widget attrs to get the live lookup.
    """

    default_error_messages = {"required": "Saisissez le numéro SIRET."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "SIRET")
        kwargs.setdefault("max_length", 32)  # room for the spaces people type
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
        return attrs

    def to_python(self, value: Any) -> str:
        return normalize_siret(super().to_python(value))

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        error = siret_error(value)
        if error:
            raise forms.ValidationError(error, code="invalid_siret")
