"""The démarches catalogue, their roles and activation codes."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class Demarche(models.Model):
    code = models.SlugField("code", max_length=32, unique=True)
    short_label = models.CharField("libellé", max_length=64)  # "CERES"
    long_name = models.CharField("nom", max_length=255)  # "Certifications Emplois"
    service_type = models.CharField(
        "type de service", max_length=255
    )  # "Certification professionnelle"
    description = models.TextField(blank=True)
    url = models.URLField("adresse de la démarche", blank=True)
    version = models.CharField(max_length=32, blank=True)
    accepts_activation_codes = models.BooleanField(default=False)
    professional_only = models.BooleanField(
        default=True, help_text="Réservée aux comptes professionnels et partenaires."
    )
    # client_id of the OpenID Connect client the démarche signs in with (portail.oidc).
    oidc_client_id = models.CharField(max_length=100, blank=True)
    assistance = models.TextField("assistance", blank=True)
    # The gestionnaires sign in with a second factor, and check it again before a sensitive
    # action (portail.core.strong_auth): they decide who may act for an establishment.
    # db_default: rows written by code (or a migration's model) that predates the column.
    requires_mfa = models.BooleanField(
        "double authentification des gestionnaires",
        default=False,
        db_default=False,
        help_text="Les gestionnaires doivent avoir un second moyen de vérification, redemandé "
        "avant les actions sensibles.",
    )
    # Every so many months each company's gestionnaires confirm who still holds access
    # (portail.habilitations.access_review); 0: no periodic review.
    access_review_months = models.PositiveSmallIntegerField(
        "revue des accès (mois)",
        default=0,
        db_default=0,
        help_text="Tous les combien de mois les gestionnaires confirment les accès ; 0 : jamais.",
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "long_name"]

    def __str__(self) -> str:
        return self.short_label


class Role(models.Model):
    demarche = models.ForeignKey(Demarche, on_delete=models.CASCADE, related_name="roles")
    code = models.SlugField(max_length=64)
    label = models.CharField("rôle", max_length=128)  # "Centre agréé"
    description = models.CharField(max_length=255, blank=True)  # "Centres de formation"
    can_manage = models.BooleanField(
        default=False, help_text="Les titulaires gèrent les habilitations de leur établissement."
    )
    granted_on_activation = models.BooleanField(
        default=False, help_text="Donné au premier utilisateur qui active la démarche avec un code."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["demarche", "order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["demarche", "code"], name="role_code_unique")
        ]

    def __str__(self) -> str:
        return self.label


class ActivationCodeQuerySet(models.QuerySet["ActivationCode"]):
    def usable(self, now: datetime | None = None) -> "ActivationCodeQuerySet":
        now = now or timezone.now()
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)

    def expired(self, now: datetime | None = None) -> "ActivationCodeQuerySet":
        now = now or timezone.now()
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now)


class ActivationCode(models.Model):
    """A code mailed to a centre. Only a keyed hash is kept: the clear code lives in the letter."""

    demarche = models.ForeignKey(
        Demarche, on_delete=models.PROTECT, related_name="activation_codes"
    )
    siret = models.CharField(max_length=14, db_index=True)
    establishment = models.ForeignKey(
        "companies.Establishment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=255, blank=True)

    objects = ActivationCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["demarche", "siret", "-issued_at"])]

    def __str__(self) -> str:
        return f"{self.demarche} / {self.siret} ({self.issued_at:%Y-%m-%d})"
