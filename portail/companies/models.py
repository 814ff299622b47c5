"""Companies and their establishments, as the registry knows them (or as a person declared them)."""

from datetime import timedelta

from django.db import models
from django.utils import timezone

from portail.companies.siret import format_siret


class Place(models.Model):
    """Where an establishment is and whether it is open: the same columns in every table that
    describes one (ours, the registry's cached answers, the Sirene stock)."""

    address = models.CharField("adresse", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=10, blank=True)
    commune = models.CharField("commune", max_length=255, blank=True)
    is_head_office = models.BooleanField("siège", default=False)
    is_active = models.BooleanField("en activité", default=True)

    class Meta:
        abstract = True

    @property
    def commune_line(self) -> str:
        return f"{self.postcode} {self.commune}".strip()


class EstablishmentQuerySet(models.QuerySet["Establishment"]):
    def of_siren(self, siren: str) -> "EstablishmentQuerySet":
        return self.filter(siren=siren)

    def open(self) -> "EstablishmentQuerySet":
        return self.filter(is_active=True)


class Establishment(Place):
    class Source(models.TextChoices):
        RECHERCHE_ENTREPRISES = "recherche_entreprises", "API Recherche d’entreprises"
        API_ENTREPRISE = "api_entreprise", "API Entreprise"
        SIRENE_LOCAL = "sirene_local", "Stock Sirene (local)"
        DECLARED = "declared", "Déclaré par l’utilisateur"

    siret = models.CharField("SIRET", max_length=14, unique=True)
    siren = models.CharField("SIREN", max_length=9, db_index=True)
    name = models.CharField("raison sociale", max_length=255)
    source = models.CharField(max_length=32, choices=Source.choices, default=Source.DECLARED)
    verified = models.BooleanField(
        default=False, help_text="Vrai quand les données viennent du répertoire des entreprises."
    )
    refreshed_at = models.DateTimeField(null=True, blank=True)

    objects = EstablishmentQuerySet.as_manager()

    class Meta:
        verbose_name = "établissement"
        ordering = ["siret"]

    def __str__(self) -> str:
        return f"{self.name} ({self.siret})"

    @property
    def siret_and_commune(self) -> str:
        """'903 100 006 00019, Nantes': which site of a company is meant, where two share a name."""
        return ", ".join(part for part in (format_siret(self.siret), self.commune) if part)


class RegistryRecordQuerySet(models.QuerySet["RegistryRecord"]):
    def fresh(self, max_age_seconds: int) -> "RegistryRecordQuerySet":
        return self.filter(fetched_at__gte=timezone.now() - timedelta(seconds=max_age_seconds))


class RegistryRecord(Place):
    """The last answer of an HTTP registry for one SIRET, with its source and date (the cache).

    Kept apart from Establishment: anyone may look a SIRET up (the sign-up form does), while an
    Establishment row exists only once someone declares it or an agent records it.
    """

    siret = models.CharField("SIRET", max_length=14, unique=True)
    siren = models.CharField("SIREN", max_length=9)
    name = models.CharField("raison sociale", max_length=255)
    source = models.CharField(max_length=32, choices=Establishment.Source.choices)
    fetched_at = models.DateTimeField("interrogé le")

    objects = RegistryRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "réponse du répertoire (cache)"
        verbose_name_plural = "réponses du répertoire (cache)"

    def __str__(self) -> str:
        return f"{self.siret} ({self.source}, {self.fetched_at:%Y-%m-%d})"


class SireneUniteLegale(models.Model):
    """A company of INSEE's Sirene stock file (StockUniteLegale), reduced to what we show."""

    siren = models.CharField("SIREN", max_length=9, primary_key=True)
    name = models.CharField("dénomination", max_length=255, blank=True)
    is_active = models.BooleanField("en activité", default=True)
    updated_at = models.DateTimeField("importé le", auto_now=True)

    class Meta:
        verbose_name = "unité légale (stock Sirene)"
        verbose_name_plural = "unités légales (stock Sirene)"

    def __str__(self) -> str:
        return f"{self.name} ({self.siren})"


class SireneEtablissement(Place):
    """An establishment of INSEE's Sirene stock file (StockEtablissement)."""

    siret = models.CharField("SIRET", max_length=14, primary_key=True)
    siren = models.CharField("SIREN", max_length=9, db_index=True)
    enseigne = models.CharField("enseigne", max_length=255, blank=True)
    updated_at = models.DateTimeField("importé le", auto_now=True)

    class Meta:
        verbose_name = "établissement (stock Sirene)"
        verbose_name_plural = "établissements (stock Sirene)"

    def __str__(self) -> str:
        return self.siret


class EstablishmentClosureQuerySet(models.QuerySet["EstablishmentClosure"]):
    def pending(self) -> "EstablishmentClosureQuerySet":
        return self.filter(handled_at__isnull=True)


class EstablishmentClosure(models.Model):
    """An establishment of the portal that the Sirene import found closed
    (`etatAdministratifEtablissement = F`) while the portal still had it open.

    Written by the import (`sirene_import.record_closures`), in a table rather than a signal, so
    that nothing is lost if the process stops between the import and the reaction: the
    back-office's chore suspends the habilitations on it, tells the people concerned, then marks
    the row handled (docs/decisions/0022).
    """

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="closures"
    )
    detected_at = models.DateTimeField("constatée le", default=timezone.now)
    handled_at = models.DateTimeField("traitée le", null=True, blank=True)

    objects = EstablishmentClosureQuerySet.as_manager()

    class Meta:
        verbose_name = "fermeture d’établissement (Sirene)"
        verbose_name_plural = "fermetures d’établissement (Sirene)"
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["establishment"],
                condition=models.Q(handled_at__isnull=True),
                name="one_pending_closure_per_establishment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.establishment_id} fermé le {self.detected_at:%Y-%m-%d}"
