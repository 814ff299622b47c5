"""What the provider keeps besides django-oauth-toolkit's own tables."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings


class UsedAuthorizationCodeQuerySet(models.QuerySet["UsedAuthorizationCode"]):
    def older_than(self, moment: datetime) -> "UsedAuthorizationCodeQuerySet":
        return self.filter(used_at__lt=moment)


class UsedAuthorizationCode(models.Model):
    """An authorization code already exchanged, kept (as a keyed hash) to detect its replay.

    django-oauth-toolkit deletes the grant once exchanged, so a replay would only be "unknown".
    RFC 6749 §4.1.2 and §10.5: a code used twice is refused *and* the tokens issued from it are
    revoked, since one of the two requests came from someone who stole it.
    """

    code_hash = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField(default=timezone.now, db_index=True)
    # What the exchange issued: the refresh-token family (rotation keeps it) and the ID token.
    token_family = models.UUIDField(null=True, blank=True)
    access_token_checksum = models.CharField(max_length=64, blank=True)
    id_token_jti = models.UUIDField(null=True, blank=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    objects = UsedAuthorizationCodeQuerySet.as_manager()

    class Meta:
        verbose_name = "code d'autorisation utilisé"

    def __str__(self) -> str:
        return f"code #{self.pk} ({self.application_id}, {self.used_at:%Y-%m-%d %H:%M})"


class GrantAuthentication(models.Model):
    """How the person signed in when the authorization code was issued: the ID token made
    from the code says it (`amr`, `acr`, `auth_time`). Goes with its grant (one use)."""

    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    amr = models.JSONField(default=list)
    acr = models.CharField(max_length=64)
    auth_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "authentification d'un code d'autorisation"

    def __str__(self) -> str:
        return f"{self.acr} ({' '.join(self.amr)})"
