"""Forms of the gestionnaire's page. Choices are limited to the gestionnaire's scope, so a forged
role, SIRET or account is refused on the field like any other bad input."""

import uuid
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from portail.companies.models import Establishment
from portail.core.forms import BoundedTextMixin
from portail.demarches.models import Demarche, Role
from portail.habilitations.queries import colleague_accounts

if TYPE_CHECKING:
    from portail.accounts.models import User


# ModelChoiceField[...] fails at run time (django-stubs-ext's monkeypatch is not a dependency).
class RoleChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Role) -> str:
        return obj.label


class EstablishmentChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Establishment) -> str:
        return f"{obj.siret_and_commune} — {obj.name}"


INVALID_CHOICE = "Ce choix ne fait pas partie des propositions."

INVALID_EMAIL = "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."


def _role_field(label: str) -> RoleChoiceField:
    """The démarche's roles as radio buttons (each form sets the queryset)."""
    return RoleChoiceField(
        label=label,
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choisissez un rôle.", "invalid_choice": INVALID_CHOICE},
    )


class _InvitationBase(BoundedTextMixin, forms.Form):
    role = _role_field("Rôle")
    establishment = EstablishmentChoiceField(
        label="SIRET de l’habilitation",
        queryset=None,
        to_field_name="siret",
        error_messages={
            "required": "Choisissez l’établissement de l’habilitation.",
            "invalid_choice": INVALID_CHOICE,
        },
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        actor: "User",
        demarche: Demarche,
        establishments: QuerySet[Establishment],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.demarche = demarche
        self.roles = demarche.roles.all()
        self.establishments = establishments.filter(is_active=True).order_by("siret")
        cast(RoleChoiceField, self.fields["role"]).queryset = self.roles
        cast(EstablishmentChoiceField, self.fields["establishment"]).queryset = self.establishments
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())

    def template_context(
        self,
        *,
        inviter: str,
        kind: str,
        roles: list[Any] | None = None,
        establishments: list[Establishment] | None = None,
    ) -> dict[str, Any]:
        """What the invitation form's template needs; `roles` and `establishments`: the
        démarche's and the form's (the active ones, by SIRET), if already read."""
        if roles is None:
            roles = list(self.roles)
        if establishments is None:
            establishments = list(self.establishments.only("siret", "name", "commune"))
        chosen_role = self["role"].value()
        chosen_siret = self["establishment"].value()
        role = next((r for r in roles if str(r.pk) == str(chosen_role)), None)
        establishment = next((e for e in establishments if e.siret == chosen_siret), None)
        return {
            "demarche": self.demarche,
            "form": self,
            "roles": roles,
            "establishments": establishments,
            "chosen_role": str(chosen_role or ""),
            "chosen_siret": chosen_siret or "",
            "summary_role": role.label if role else "…",
            "summary_company": establishment.name if establishment else "…",
            "summary_establishment": establishment.siret_and_commune if establishment else "",
            "inviter": inviter,
            "kind": kind,
        }


class InviteForm(_InvitationBase):
    """ "Inviter un utilisateur": an account of the company, or an email address."""

    user_query = forms.CharField(
        label="Utilisateur",
        required=False,
        max_length=150,
        help_text="Commencez à taper le nom, une liste vous sera proposée",
    )
    user = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    email = forms.EmailField(
        label="Adresse électronique",
        required=False,
        max_length=254,
        error_messages={"invalid": INVALID_EMAIL},
    )

    field_order = ["user_query", "user", "email", "role", "establishment", "submission_key"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        public_id = (cleaned.get("user") or "").strip()
        email = (cleaned.get("email") or "").strip().lower()
        cleaned["invited_user"] = None
        if public_id:
            try:
                key = uuid.UUID(public_id)
            except ValueError:
                key = None
            invited = (
                colleague_accounts(self.actor, self.demarche).filter(public_id=key).first()
                if key
                else None
            )
            if invited is None:
                self.add_error("user_query", "Choisissez une personne dans la liste proposée.")
            else:
                cleaned["invited_user"] = invited
        elif not email and "email" not in self.errors:
            message = (
                "Choisissez une personne dans la liste proposée."
                if cleaned.get("user_query")
                else "Choisissez un utilisateur ou ajoutez son adresse électronique."
            )
            self.add_error("user_query", message)
        cleaned["email"] = email
        return cleaned


class DelegateForm(_InvitationBase):
    """ "Déléguer une habilitation à un tiers": a person outside the company, by email."""

    email = forms.EmailField(
        label="Adresse électronique du tiers",
        max_length=254,
        error_messages={
            "required": "Saisissez l’adresse électronique de la personne.",
            "invalid": INVALID_EMAIL,
        },
    )
    ends_on = forms.DateField(
        label="Date de fin (facultative)",
        required=False,
        help_text="Au format jj/mm/aaaa. L’habilitation prend fin d’elle-même à cette date.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={"invalid": "Saisissez une date valide, par exemple 31/12/2026."},
    )

    field_order = ["email", "role", "establishment", "ends_on", "submission_key"]

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        return email.strip().lower()

    def clean_ends_on(self) -> date | None:
        day: date | None = self.cleaned_data.get("ends_on")
        if day is not None and day <= timezone.localdate():
            raise ValidationError("La date de fin doit être postérieure à aujourd’hui.")
        return day

    @property
    def ends_at(self) -> datetime | None:
        """The delegation ends at the end of the chosen day (Paris time)."""
        day = self.cleaned_data.get("ends_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.max))


class RoleChangeForm(forms.Form):
    role = _role_field("Nouveau rôle")

    def __init__(self, *args: Any, demarche: Demarche, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roles = demarche.roles.all()
        cast(RoleChoiceField, self.fields["role"]).queryset = self.roles


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label="Rechercher par nom", required=False, max_length=100)
    etablissement = forms.CharField(label="Établissement", required=False, max_length=14)
