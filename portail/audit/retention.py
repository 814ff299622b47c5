"""Retention of the journal (docs/retention.md): events older than `RETENTION_JOURNAL_YEARS` are
deleted. The journal is append-only (`AuditEventQuerySet` refuses `update` and `delete`); this
purge, run by the housekeeping, is the one deletion allowed, and it journals itself."""

from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from portail.audit.journal import record
from portail.audit.models import AuditEvent

BATCH = 5000  # events deleted per statement: a first purge of years of logins stays short


def cutoff(now: datetime | None = None) -> datetime:
    """The same day and time RETENTION_JOURNAL_YEARS years ago (28 February for a 29th)."""
    now = now or timezone.now()
    year = now.year - int(settings.RETENTION_JOURNAL_YEARS)
    try:
        return now.replace(year=year)
    except ValueError:  # 29 February
        return now.replace(year=year, day=28)


def purge_old_events() -> int:
    """Delete the events older than the limit, by batches; how many were deleted."""
    limit = cutoff()
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                AuditEvent.objects.filter(at__lt=limit)
                .order_by("at", "pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            # The queryset's guard refuses deletions: Django's own delete, on purpose, here only.
            count, _ = models.QuerySet.delete(AuditEvent.objects.filter(pk__in=ids))
            deleted += count
    if deleted:
        record(
            "audit.purged",
            data={"before": limit.isoformat(), "deleted": deleted},
        )
    return deleted
