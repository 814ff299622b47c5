"""The agents' side: regions (DREETS), agents, centres agréés and their sites liés, letters."""

from django.conf import settings
from django.db import models


class Region(models.Model):
    code = models.CharField(max_length=8, unique=True)  # INSEE region code, "11" for Île-de-France
    name = models.CharField(max_length=128)  # "DRIEETS Île-de-France"

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AgentProfile(models.Model):
    """Makes a portal user a ministry agent. Created only by an administrator, never by a form."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    regions = models.ManyToManyField(Region, blank=True, related_name="agents")
    is_national = models.BooleanField(default=False, help_text="Voit toutes les régions.")

    def __str__(self):
        return str(self.user)


class CentreQuerySet(models.QuerySet):
    def visible_to(self, agent_profile):
        if agent_profile.is_national:
            return self
        return self.filter(region__in=agent_profile.regions.all())

    def open(self):
        return self.filter(closed_at__isnull=True)


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
    letter_address = models.TextField("adresse postale")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=255, blank=True)

    objects = CentreQuerySet.as_manager()

    class Meta:
        ordering = ["letter_name"]

    def __str__(self):
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
    address = models.TextField("adresse", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["centre", "establishment"], name="linked_site_unique")
        ]

    def __str__(self):
        return self.label or (self.establishment.name if self.establishment else self.address)
