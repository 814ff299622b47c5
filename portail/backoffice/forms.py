"""Forms of the agents' back-office. Labels in French; errors land on the field they concern."""

from collections.abc import Callable
from datetime import date
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from dsfr.forms import DsfrBoundField
from dsfr.utils import dsfr_input_class_attr

from portail.audit.labels import ACTION_LABELS
from portail.backoffice.activation import ActivationStatus
from portail.backoffice.flows import EDITABLE
from portail.backoffice.imports import MAX_BYTES, too_big_message
from portail.backoffice.models import AgentProfile
from portail.centres.departements import REGION_OF_DEPARTEMENT
from portail.centres.models import ADDRESS_MAX_LENGTH, Centre, Region
from portail.companies.siret import normalize_siret, siret_error
from portail.core.forms import bound_text


class DsfrMixin:
    """Fields render as DSFR input groups (label, hint, error state) with `as_field_group`; text
    over its bound is refused in French, not cut by the browser."""

    bound_field_class = DsfrBoundField
    visible_fields: Callable[[], list[forms.BoundField]]  # the form's
    fields: dict[str, forms.Field]  # the form's

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_text(self.fields)
        for visible in self.visible_fields():
            dsfr_input_class_attr(visible)


class AgentLoginForm(DsfrMixin, forms.Form):
    email = forms.EmailField(
        label="Adresse électronique",
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OtpForm(DsfrMixin, forms.Form):
    code = forms.CharField(
        label="Code à 6 chiffres",
        help_text="Le code affiché par votre application d’authentification.",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class SiretField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "SIRET")
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value:
            return value
        error = siret_error(value)
        if error:
            raise forms.ValidationError(error)
        return normalize_siret(value)


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class CentreFieldsMixin:
    """Region limited to the agent's regions."""

    fields: dict[str, forms.Field]  # the form's

    def limit_regions(self, agent: AgentProfile) -> None:
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = Region.objects.visible_to(
            agent
        ).order_by("name")


class CentreCreateForm(DsfrMixin, CentreFieldsMixin, forms.ModelForm):
    siret = SiretField(
        label="SIRET du centre",
        help_text="14 chiffres. Raison sociale et adresse sont pré-remplies depuis le répertoire des entreprises.",
    )
    region = RegionChoiceField(
        label="Région (DREETS)",
        queryset=Region.objects.none(),
        help_text="Pré-sélectionnée d’après la commune de l’établissement ; vous pouvez la changer.",
    )

    class Meta:
        model = Centre
        fields = list(EDITABLE)
        labels = {
            "agrement_reference": "Référence de l’agrément",
            "agrement_date": "Date de l’agrément",
            "contact_email": "Adresse électronique de contact",
            "letter_name": "Nom du centre (destinataire du courrier)",
            "letter_address": "Adresse du centre (pour le courrier)",
        }
        help_texts = {
            "letter_name": "Laissez vide pour reprendre la raison sociale du répertoire.",
            "letter_address": "Laissez vide pour reprendre l’adresse du répertoire.",
        }
        widgets = {
            "agrement_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "letter_address": forms.Textarea(attrs={"rows": 3}),
        }

    field_order = ["siret", "region"]
    lookup_error = ""

    def __init__(self, *args: Any, agent: AgentProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_regions(agent)
        self.fields["letter_name"].required = False
        self.fields["letter_address"].required = False
        # companies/js/siret-lookup.js prefills from the registry as the SIRET is typed.
        self.fields["siret"].widget.attrs.update(
            {
                "data-siret-lookup": "",
                "data-siret-lookup-url": reverse("companies:siret_lookup", args=["{siret}"]),
                "inputmode": "numeric",
                "autocomplete": "off",
            }
        )
        self.fields["letter_name"].widget.attrs["data-siret-fill"] = "name"
        self.fields["letter_address"].widget.attrs["data-centre-letter-address"] = ""
        self.fields["region"].widget.attrs["data-centre-region"] = ""
        self.agent = agent
        if not self.is_bound:
            self._preselect_region()

    def _preselect_region(self) -> None:
        """Keep the region given (the registry's, see `queries.centre_prefill`) when the agent
        may choose it; else a regional agent of one region gets theirs."""
        regions = Region.objects.visible_to(self.agent)
        given = str(self.initial.get("region") or "")
        if given.isdigit() and regions.filter(pk=given).exists():
            return
        own = list(regions.values_list("pk", flat=True)[:2])
        self.initial["region"] = own[0] if not self.agent.is_national and len(own) == 1 else None

    def region_by_departement(self) -> dict[str, int]:
        """Département → pk of the region, for the regions the agent may choose
        (`backoffice/js/centre-form.js` preselects the region as the SIRET is typed)."""
        pks = dict(Region.objects.visible_to(self.agent).values_list("code", "pk"))
        return {
            departement: pks[code]
            for departement, code in REGION_OF_DEPARTEMENT.items()
            if code in pks
        }


class CentreEditForm(DsfrMixin, CentreFieldsMixin, forms.ModelForm):
    region = RegionChoiceField(label="Région (DREETS)", queryset=Region.objects.none())

    class Meta(CentreCreateForm.Meta):
        help_texts = {}

    def __init__(self, *args: Any, agent: AgentProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit_regions(agent)


class CloseCentreForm(DsfrMixin, forms.Form):
    reason = forms.CharField(
        label="Motif de la fermeture",
        max_length=255,
        help_text="Par exemple : retrait de l’agrément, cessation d’activité.",
    )


class LinkedSiteForm(DsfrMixin, forms.Form):
    siret = SiretField(
        label="SIRET du site",
        required=False,
        help_text="Un établissement connu du répertoire des entreprises…",
    )
    label = forms.CharField(label="Nom du site", max_length=255, required=False)
    address = forms.CharField(
        label="Adresse du site",
        required=False,
        max_length=ADDRESS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="… ou, sans SIRET, un nom et une adresse.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("siret") and not self.has_error("siret"):
            if not data.get("label"):
                self.add_error("label", "Indiquez le SIRET du site, ou son nom et son adresse.")
            if not data.get("address"):
                self.add_error("address", "Indiquez le SIRET du site, ou son nom et son adresse.")
        return data


class CentreFilterForm(DsfrMixin, forms.Form):
    q = forms.CharField(label="Rechercher (nom, SIRET, commune)", required=False, max_length=100)
    region = RegionChoiceField(
        label="Région", queryset=Region.objects.none(), required=False, empty_label="Toutes"
    )
    status = forms.ChoiceField(
        label="Activation",
        required=False,
        choices=[("", "Tous"), *ActivationStatus.choices],
    )
    include_closed = forms.BooleanField(label="Inclure les centres fermés", required=False)

    def __init__(self, *args: Any, agent: AgentProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = Region.objects.visible_to(
            agent
        ).order_by("name")


class CsvImportForm(DsfrMixin, forms.Form):
    file = forms.FileField(
        label="Fichier CSV des centres agréés",
        help_text=(
            "Colonnes : siret ; nom ; adresse ; region (code INSEE de la région). "
            "Séparateur point-virgule ou virgule, encodage UTF-8 ou Windows-1252."
        ),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_BYTES:
            raise forms.ValidationError(too_big_message())
        return upload


class SupportSearchForm(DsfrMixin, forms.Form):
    q = forms.CharField(
        label="Adresse électronique, nom ou SIRET",
        max_length=254,
        min_length=3,
        error_messages={"min_length": "Saisissez au moins 3 caractères."},
    )


# The habilitation keeps the reason after "Agent : " (backoffice.support), in its 255 characters.
REVOKE_REASON_MAX_LENGTH = 247


class RevokeHabilitationForm(DsfrMixin, forms.Form):
    reason = forms.CharField(
        label="Motif de la révocation",
        max_length=REVOKE_REASON_MAX_LENGTH,
        error_messages={"required": "Indiquez le motif de la révocation."},
    )


# The journal starts with the portal; a date outside these years is a typing error (and would
# overflow once turned into the bounds of a day).
JOURNAL_FIRST_YEAR, JOURNAL_LAST_YEAR = 2000, 2100
BAD_DATE = "Date invalide : saisissez-la au format JJ/MM/AAAA."


def journal_action_choices() -> list[tuple[str, str]]:
    """Every action the journal names, by its French label."""
    return [("", "Toutes"), *sorted(ACTION_LABELS.items(), key=lambda item: item[1].lower())]


class JournalFilterForm(DsfrMixin, forms.Form):
    """The agents' journal filters (GET). Bad input is refused in French on its field."""

    date_from = forms.DateField(
        label="Du",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": BAD_DATE},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="Au",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": BAD_DATE},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    action = forms.ChoiceField(
        label="Action",
        required=False,
        choices=journal_action_choices,
        error_messages={"invalid_choice": "Action inconnue : choisissez-la dans la liste."},
    )
    region = RegionChoiceField(
        label="Région",
        queryset=Region.objects.none(),
        required=False,
        empty_label="Toutes",
        error_messages={"invalid_choice": "Région inconnue : choisissez-la dans la liste."},
    )
    siret = forms.CharField(
        label="SIRET ou SIREN",
        required=False,
        max_length=20,
        help_text="14 chiffres (un établissement) ou 9 (toute l’entreprise).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account = forms.EmailField(
        label="Compte (adresse électronique)",
        required=False,
        error_messages={"invalid": "Saisissez une adresse électronique valide, ou rien."},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    support = forms.BooleanField(label="Actions de l’assistance seulement", required=False)

    def __init__(self, *args: Any, agent: AgentProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = Region.objects.visible_to(
            agent
        ).order_by("name")

    def _clean_day(self, name: str) -> date | None:
        day: date | None = self.cleaned_data.get(name)
        if day is not None and not JOURNAL_FIRST_YEAR <= day.year <= JOURNAL_LAST_YEAR:
            raise forms.ValidationError(
                f"Saisissez une date entre {JOURNAL_FIRST_YEAR} et {JOURNAL_LAST_YEAR}."
            )
        return day

    def clean_date_from(self) -> date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> date | None:
        return self._clean_day("date_to")

    def clean_siret(self) -> str:
        number = normalize_siret(self.cleaned_data.get("siret"))
        if number and (len(number) not in (9, 14) or not number.isdigit()):
            raise forms.ValidationError(
                "Saisissez un SIRET (14 chiffres) ou un SIREN (9 chiffres)."
            )
        return number

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "La date de fin doit suivre la date de début.")
        return cleaned


class ResetFactorsForm(DsfrMixin, forms.Form):
    """The support removes a person's second factors (a lost telephone): the reason is kept."""

    reason = forms.CharField(
        label="Motif de la réinitialisation",
        help_text="Par exemple : téléphone perdu, identité vérifiée par rappel au numéro du compte.",
        max_length=REVOKE_REASON_MAX_LENGTH,
        error_messages={"required": "Indiquez le motif de la réinitialisation."},
    )
