"""What CERES keeps of the portal's feed of habilitation changes (ceres.web.feed).

CERES' own table of who holds which role where: the roles of a person (`sub`) on an establishment
(`siret`) as the last event said, with the event's number and time. The landing page prefers it
to the roles read at sign-in when it is fresher.
"""

from django.db import models


class PortalRoles(models.Model):
    sub = models.CharField(max_length=64)
    siret = models.CharField(max_length=14)
    roles = models.JSONField(default=list)  # role codes, e.g. ["centre-agree"]
    sequence = models.PositiveBigIntegerField()  # the feed event that said so
    occurred_at = models.DateTimeField()  # when the change happened at the portal

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sub", "siret"], name="one_row_per_place")]

    def __str__(self) -> str:
        return f"{self.sub} @ {self.siret}: {', '.join(self.roles) or '—'}"


class ReceivedEvent(models.Model):
    """An event already applied, by its idempotency key (`jti`): a second delivery is ignored."""

    event_id = models.CharField(max_length=100, unique=True)
    sequence = models.PositiveBigIntegerField(db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.event_id


class PortalSession(models.Model):
    """Which CERES session a portal session (`sid` of the ID token) signed in: a logout token
    from the portal names the `sid` (ceres.web.backchannel)."""

    sid = models.CharField(max_length=64, db_index=True)
    sub = models.CharField(max_length=64, db_index=True)
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.sid} → session CERES"


class ReceivedLogoutToken(models.Model):
    """A logout token already used, by its `jti`: a replay is refused."""

    jti = models.CharField(max_length=100, unique=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.jti
