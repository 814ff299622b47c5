"""The audit journal: append-only, one row per action that matters."""

from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from portail.audit.labels import FORMER_SUPPORT_ACTIONS, action_label


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("The audit journal is append-only.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("The audit journal is append-only.")

    def for_establishments(self, establishment_ids: Iterable[int]) -> "AuditEventQuerySet":
        """Events about these establishments (ids, or a query set of ids)."""
        return self.filter(establishment_id__in=establishment_ids)


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the journal must still say who acted after an account is deleted.
    actor_label = models.CharField(max_length=320, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=320, blank=True)
    # The démarche and the establishment by identifier, not by foreign key: the journal knows no
    # domain app, and an event outlives what it describes (the id stays when the row is deleted).
    demarche_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    establishment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The audit journal is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("The audit journal is append-only.")

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def by_support(self) -> bool:
        """Whether an agent did it for a person (telephone assistance): a field of the action's
        own event (`"support": true`), or one of the support's former separate events."""
        return bool(isinstance(self.data, dict) and self.data.get("support")) or (
            self.action in FORMER_SUPPORT_ACTIONS
        )
