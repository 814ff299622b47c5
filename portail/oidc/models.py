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


class SessionGrant(models.Model):
    """Which portal session authorised which code, and the refresh-token family its exchange
    issued: ending the session (portail.accounts.user_sessions) revokes that family, and a code
    not yet exchanged can no longer be (portail.oidc.session_tokens)."""

    user_session = models.ForeignKey(
        "accounts.UserSession", on_delete=models.CASCADE, related_name="+"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    # DOT deletes the grant once exchanged; then the family says what was issued.
    grant = models.ForeignKey(
        settings.OAUTH2_PROVIDER_GRANT_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token_family = models.UUIDField(null=True, blank=True, db_index=True)
    # The client it was for: it hears of the session's end (portail.oidc.backchannel).
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "autorisation d'une session"

    def __str__(self) -> str:
        return f"autorisation #{self.pk} (session {self.user_session_id})"


class WebhookSubscriptionQuerySet(models.QuerySet["WebhookSubscription"]):
    def due(self, now: datetime) -> "WebhookSubscriptionQuerySet":
        return self.filter(
            models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
        )


class WebhookSubscription(models.Model):
    """Where a démarche is pushed its feed of habilitation changes, and how far it got.

    One per démarche (it outlives a client replaced with --replace). Events go one at a time, in
    order: event n+1 leaves only once n was acknowledged (a 2xx answer). A failure waits with a
    growing back-off and is tried again, forever: the events stay in the feed
    (portail.oidc.webhooks).
    """

    demarche = models.OneToOneField(
        "demarches.Demarche", on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=500)
    delivered_sequence = models.PositiveBigIntegerField(default=0)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # failed tries of the waiting event
    failures = models.PositiveIntegerField(default=0)  # every failed try, for the agents
    last_error = models.CharField(max_length=500, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's lease on the démarche: two workers never push the same démarche at once.
    claimed_until = models.DateTimeField(null=True, blank=True)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = "abonnement au flux des habilitations"

    def __str__(self) -> str:
        return f"{self.demarche_id} → {self.url}"


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


class BackchannelLogoutEndpoint(models.Model):
    """Where a client receives logout tokens (OpenID Connect Back-Channel Logout 1.0,
    `backchannel_logout_uri`): DOT's client model has no such field."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    uri = models.URLField(max_length=500)

    class Meta:
        verbose_name = "adresse de déconnexion (back-channel)"

    def __str__(self) -> str:
        return f"{self.application_id} → {self.uri}"


class PendingLogoutQuerySet(models.QuerySet["PendingLogout"]):
    def due(self, now: datetime) -> "PendingLogoutQuerySet":
        return self.filter(next_attempt_at__lte=now)


class PendingLogout(models.Model):
    """A logout token to POST to a client (portail.oidc.backchannel): written in the transaction
    that ends the session, sent by the worker, deleted once acknowledged. The token itself is
    signed at each try (short `exp`); this keeps what it says."""

    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sub = models.CharField(max_length=64)
    sid = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.CharField(max_length=200, blank=True)

    objects = PendingLogoutQuerySet.as_manager()

    class Meta:
        verbose_name = "déconnexion à transmettre"

    def __str__(self) -> str:
        return f"logout {self.sid} → {self.application_id}"
