"""The outbox's retention (#14 item 4): the bodies of finished emails older than
RETENTION_OUTBOX_BODY_DAYS are emptied; the row, its subject and status stay."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portail.core import housekeeping
from portail.notifications.emails import send_email
from portail.notifications.models import OutboxEmail
from portail.notifications.retention import purge_old_bodies

pytestmark = pytest.mark.django_db

Status = OutboxEmail.Status


def email(days: float, status: str = Status.SENT) -> OutboxEmail:
    row = send_email("notifications/emails/smoke", "anne@exemple.fr", {}, category="test")
    OutboxEmail.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(days=days), status=status
    )
    return row


def test_bodies_of_emails_older_than_ninety_days_are_emptied_rows_and_status_kept():
    old_sent, old_failed = email(91), email(120, Status.FAILED)
    young = email(89)
    old_pending = email(91, Status.PENDING)  # still to be sent: its body stays
    subjects = dict(OutboxEmail.objects.values_list("pk", "subject"))

    assert housekeeping.run()["outbox_bodies_purged"] == 2

    for row, status in ((old_sent, Status.SENT), (old_failed, Status.FAILED)):
        row.refresh_from_db()
        assert row.body_text == ""
        assert row.body_html == ""
        assert row.status == status
        assert row.subject == subjects[row.pk]
        assert row.recipient == "anne@exemple.fr"
    for row in (young, old_pending):
        row.refresh_from_db()
        assert row.body_text
        assert row.body_html
    assert OutboxEmail.objects.count() == 4
    assert purge_old_bodies() == 0  # done once


def test_the_limit_is_a_setting(settings):
    settings.RETENTION_OUTBOX_BODY_DAYS = 7
    week_old, fresh = email(8), email(6)
    assert purge_old_bodies() == 1
    week_old.refresh_from_db()
    fresh.refresh_from_db()
    assert week_old.body_text == ""
    assert fresh.body_text
