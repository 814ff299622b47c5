"""Delivery of the outbox over SMTP: claim, send, record; retries with growing back-off.

A row is claimed by a conditional UPDATE (pending → sending), so two workers never send the same
row. A row left in "sending" by a worker that died mid-conversation is retried after
settings.OUTBOX_STALE_CLAIM_SECONDS with the same Message-ID (the only case where a receiver
could see it twice).
"""

import contextlib
import logging
import re
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Q
from django.utils import timezone

from portail.notifications.models import OutboxEmail

logger = logging.getLogger(__name__)


# One-use links (activation, reset, invitation) carry a token of 256 bits, 43 URL-safe characters.
# Once the message is out, the outbox keeps no usable copy of it.
_TOKEN_IN_URL = re.compile(r"(https?://[^\s\"'<>]*?/)([A-Za-z0-9_-]{32,})")
SCRUBBED = "[lien-personnel-masqué]"


def scrub_links(text: str) -> str:
    """Replace the tokens of personal links by a mark, leaving the rest of the URL readable."""
    return _TOKEN_IN_URL.sub(lambda m: m.group(1) + SCRUBBED, text)


def _scrub_personal_links(email: OutboxEmail) -> None:
    """Once an email is out (or given up), its bodies keep no usable one-use link."""
    email.body_text = scrub_links(email.body_text)
    email.body_html = scrub_links(email.body_html)


MAX_BACKOFF_SECONDS = 6 * 3600


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt number attempts+1: base, 2×base, 4×base… capped."""
    factor: int = 2 ** max(0, attempts - 1)  # typeshed: int ** int may be a float
    return min(MAX_BACKOFF_SECONDS, settings.OUTBOX_RETRY_BASE_SECONDS * factor)


def _release_stale_claims(now: datetime) -> None:
    OutboxEmail.objects.filter(
        status=OutboxEmail.Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.OUTBOX_STALE_CLAIM_SECONDS),
    ).update(status=OutboxEmail.Status.PENDING)


def _claim(email_id: int, now: datetime) -> bool:
    return bool(
        OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=OutboxEmail.Status.SENDING, claimed_at=now)
    )


def _message(email: OutboxEmail, connection: BaseEmailBackend) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.recipient],
        connection=connection,
        headers={
            "Message-ID": make_msgid(idstring=str(email.message_id), domain="portail.local"),
            "Auto-Submitted": "auto-generated",
        },
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def deliver_pending(limit: int = 100) -> dict[str, int]:
    """Deliver what is due. Returns counts: {"sent": n, "retry": n, "failed": n}."""
    now = timezone.now()
    _release_stale_claims(now)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    ids = list(
        OutboxEmail.objects.due(now)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    if not ids:
        return counts
    connection = get_connection(fail_silently=False)
    try:
        for email_id in ids:
            if not _claim(email_id, now):
                continue  # another worker took it
            email = OutboxEmail.objects.get(pk=email_id)
            try:
                _message(email, connection).send()
            except Exception as exc:  # SMTP errors, refused connections, timeouts
                email.attempts += 1
                email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                    email.status = OutboxEmail.Status.FAILED
                    _scrub_personal_links(email)
                    counts["failed"] += 1
                    logger.error(
                        "Email %s failed for good after %s attempts", email.pk, email.attempts
                    )
                else:
                    email.status = OutboxEmail.Status.PENDING
                    email.next_attempt_at = timezone.now() + timedelta(
                        seconds=backoff_seconds(email.attempts)
                    )
                    counts["retry"] += 1
                    logger.warning(
                        "Email %s not delivered (attempt %s): %s",
                        email.pk,
                        email.attempts,
                        type(exc).__name__,
                    )
                email.save(
                    update_fields=[
                        "attempts",
                        "last_error",
                        "status",
                        "next_attempt_at",
                        "body_text",
                        "body_html",
                    ]
                )
                # The connection may be broken: close it, the next send reopens one.
                with contextlib.suppress(Exception):
                    connection.close()
                continue
            email.attempts += 1
            email.status = OutboxEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
            _scrub_personal_links(email)
            email.save(
                update_fields=[
                    "attempts",
                    "status",
                    "sent_at",
                    "last_error",
                    "body_text",
                    "body_html",
                ]
            )
            counts["sent"] += 1
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    return counts
