"""The outbox: every email the portal sends is first a row here, written in the caller's transaction."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:  # the apps above notifications: named in annotations only
    from portail.demarches.models import Demarche


class OutboxEmailQuerySet(models.QuerySet["OutboxEmail"]):
    def pending(self) -> "OutboxEmailQuerySet":
        return self.filter(status=OutboxEmail.Status.PENDING)

    def due(self, now: datetime | None = None) -> "OutboxEmailQuerySet":
        now = now or timezone.now()
        return self.pending().filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))

    def failed(self) -> "OutboxEmailQuerySet":
        return self.filter(status=OutboxEmail.Status.FAILED)

    def sent(self) -> "OutboxEmailQuerySet":
        return self.filter(status=OutboxEmail.Status.SENT)

    def about(
        self, demarche: "Demarche", establishments: Iterable[object]
    ) -> "OutboxEmailQuerySet":
        """The "Historique des messages" of a démarche for some establishments (or their ids)."""
        return self.filter(demarche=demarche, establishment__in=establishments)


class OutboxEmail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        SENDING = "sending", "En cours d’envoi"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec"

    # Stable Message-ID: should a delivery be retried after a crash mid-conversation,
    # receiving servers can recognise the duplicate.
    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    recipient = models.EmailField(max_length=254, db_index=True)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    category = models.CharField(max_length=64, db_index=True)
    template = models.CharField(max_length=128, blank=True)
    demarche = models.ForeignKey(
        "demarches.Demarche", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    establishment = models.ForeignKey(
        "companies.Establishment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["demarche", "establishment", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.subject}"
