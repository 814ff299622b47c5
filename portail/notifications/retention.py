"""Retention of the outbox (docs/retention.md): the bodies of emails older than
`RETENTION_OUTBOX_BODY_DAYS` are emptied; the row (recipient, subject, category, dates, status,
attempts) stays, for the "Historique des messages" and the support. A housekeeping chore."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from portail.notifications.models import OutboxEmail

# Only the emails the worker is done with: one still pending or being sent keeps its body.
_DONE = (OutboxEmail.Status.SENT, OutboxEmail.Status.FAILED)


def purge_old_bodies() -> int:
    """Empty the bodies of the finished emails created before the limit; how many were emptied."""
    cutoff = timezone.now() - timedelta(days=int(settings.RETENTION_OUTBOX_BODY_DAYS))
    return (
        OutboxEmail.objects.filter(created_at__lt=cutoff, status__in=_DONE)
        .exclude(body_text="", body_html="")
        .update(body_text="", body_html="")
    )
