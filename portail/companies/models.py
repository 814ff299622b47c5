"""Companies and their establishments, as the registry knows them (or as a person declared them)."""

from django.db import models


class EstablishmentQuerySet(models.QuerySet):
    def of_siren(self, siren: str):
        return self.filter(siren=siren)

    def open(self):
        return self.filter(is_active=True)


class Establishment(models.Model):
    class Source(models.TextChoices):
        RECHERCHE_ENTREPRISES = "recherche_entreprises", "API Recherche d’entreprises"
        API_ENTREPRISE = "api_entreprise", "API Entreprise"
        SIRENE_LOCAL = "sirene_local", "Stock Sirene (local)"
        DECLARED = "declared", "Déclaré par l’utilisateur"

    siret = models.CharField("SIRET", max_length=14, unique=True)
    siren = models.CharField("SIREN", max_length=9, db_index=True)
    name = models.CharField("raison sociale", max_length=255)
    address = models.CharField("adresse", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=10, blank=True)
    commune = models.CharField("commune", max_length=255, blank=True)
    is_head_office = models.BooleanField("siège", default=False)
    is_active = models.BooleanField("en activité", default=True)
    source = models.CharField(max_length=32, choices=Source.choices, default=Source.DECLARED)
    verified = models.BooleanField(
        default=False, help_text="Vrai quand les données viennent du répertoire des entreprises."
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)

    objects = EstablishmentQuerySet.as_manager()

    class Meta:
        verbose_name = "établissement"
        ordering = ["siret"]

    def __str__(self):
        return f"{self.name} ({self.siret})"

    @property
    def commune_line(self) -> str:
        return f"{self.postcode} {self.commune}".strip()
