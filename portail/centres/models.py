"""The perimeter of a habilitation: regions (DREETS), centres agréés, their sites liés, imports.

The rule that reads these tables to say which establishments a habilitation covers is in
`portail.centres.perimeter`. Who follows a centre's activation, and the agents who look after a
region, belong to the back-office (`portail.backoffice`).
"""

from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

# A postal address typed or taken from the registry (its street line, 255 at most, then the
# postcode and commune, 266 at most): forms and the database hold it to the same bound.
ADDRESS_MAX_LENGTH = 600


class AgentScope(Protocol):
    """What the centres need of a back-office agent (`portail.backoffice.models.AgentProfile`)."""

    pk: Any
    is_national: bool
    regions: Any  # the agent's regions (a many-to-many manager)


class RegionQuerySet(models.QuerySet["Region"]):
    def visible_to(self, agent_profile: AgentScope) -> "RegionQuerySet":
        """The regions an agent of the back-office looks after (all of them for a national one)."""
        if agent_profile.is_national:
            return self
        return self.filter(agents__pk=agent_profile.pk)


class Region(models.Model):
    code = models.CharField(max_length=8, unique=True)  # INSEE region code, "11" for Île-de-France
    name = models.CharField(max_length=128)  # "DRIEETS Île-de-France"

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CentreQuerySet(models.QuerySet["Centre"]):
    # Any, not CentreQuerySet: the back-office's list narrows it further with filters of its own
    # that return plain query sets, into the same variable (portail.backoffice.views).
    def visible_to(self, agent_profile: AgentScope) -> Any:
        """The centres of the regions an agent of the back-office looks after."""
        if agent_profile.is_national:
            return self
        return self.filter(region__in=agent_profile.regions.all())

    def open(self) -> "CentreQuerySet":
        return self.filter(closed_at__isnull=True)

    def search(self, text: str) -> "CentreQuerySet":
        text = (text or "").strip()
        if not text:
            return self
        digits = text.replace(" ", "")
        query = (
            Q(letter_name__icontains=text)
            | Q(establishment__name__icontains=text)
            | Q(establishment__commune__icontains=text)
        )
        if digits.isdigit():
            query |= Q(establishment__siret__startswith=digits)
        return self.filter(query)


class Centre(models.Model):
    """A centre agréé for CERES: an establishment, its agrément, its sites liés."""

    establishment = models.OneToOneField(
        "companies.Establishment", on_delete=models.PROTECT, related_name="centre"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="centres")
    agrement_reference = models.CharField("référence de l’agrément", max_length=64, blank=True)
    agrement_date = models.DateField("date de l’agrément", null=True, blank=True)
    contact_email = models.EmailField("adresse électronique de contact", blank=True)
    letter_name = models.CharField("nom du destinataire", max_length=255)
    letter_address = models.TextField("adresse postale", max_length=ADDRESS_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=255, blank=True)
    imported_in = models.ForeignKey(
        "CentreImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="centres"
    )

    objects = CentreQuerySet.as_manager()

    class Meta:
        ordering = ["letter_name"]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("letter_address"), ADDRESS_MAX_LENGTH),
                name="centre_letter_address_length",
            )
        ]

    def __str__(self) -> str:
        return f"{self.letter_name} ({self.establishment.siret})"


class LinkedSite(models.Model):
    """A site lié: another establishment (by SIRET) or a plain address covered by the centre."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="sites")
    establishment = models.ForeignKey(
        "companies.Establishment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="linked_to",
    )
    label = models.CharField("nom", max_length=255, blank=True)
    address = models.TextField("adresse", blank=True, max_length=ADDRESS_MAX_LENGTH)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["centre", "establishment"], name="linked_site_unique"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("address"), ADDRESS_MAX_LENGTH),
                name="linked_site_address_length",
            ),
        ]

    def __str__(self) -> str:
        return self.label or (self.establishment.name if self.establishment else self.address)


class CentreImport(models.Model):
    """One CSV import of centres already approved: all its lines, or none, were imported."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=16, blank=True)
    line_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.line_count} centres)"
