"""The journal's retention (#14 item 4): events older than RETENTION_JOURNAL_YEARS go, by the
housekeeping; the others stay; the purge journals itself and is the one deletion allowed."""

from datetime import timedelta

import pytest
from django.db import models
from django.utils import timezone

from portail.audit import retention
from portail.audit.journal import record
from portail.audit.models import AppendOnlyError, AuditEvent
from portail.core import housekeeping

pytestmark = pytest.mark.django_db


def event_at(action: str, at) -> AuditEvent:
    event = record(action, data={"n": action})
    # The journal refuses updates: the test dates its rows behind the guard's back.
    models.QuerySet.update(AuditEvent.objects.filter(pk=event.pk), at=at)
    return event


def test_events_older_than_five_years_are_purged_and_the_younger_kept():
    now = timezone.now()
    too_old = [
        event_at("old.1", now - timedelta(days=5 * 365 + 5)),
        event_at("old.2", now - timedelta(days=9 * 365)),
    ]
    kept = [
        event_at("kept.1", now - timedelta(days=5 * 365 - 5)),
        event_at("kept.2", now - timedelta(days=10)),
    ]

    assert housekeeping.run()["journal_purged"] == 2

    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert not remaining & {e.pk for e in too_old}
    assert {e.pk for e in kept} <= remaining
    purge = AuditEvent.objects.get(action="audit.purged")
    assert purge.data["deleted"] == 2
    assert retention.purge_old_events() == 0  # nothing more; no second purge event
    assert AuditEvent.objects.filter(action="audit.purged").count() == 1


def test_the_limit_is_a_setting(settings):
    settings.RETENTION_JOURNAL_YEARS = 1
    now = timezone.now()
    event_at("two.years", now - timedelta(days=730))
    young = event_at("half.year", now - timedelta(days=180))
    assert retention.purge_old_events() == 1
    assert AuditEvent.objects.filter(pk=young.pk).exists()


def test_the_purge_goes_by_batches(monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 3)
    old = timezone.now() - timedelta(days=6 * 365)
    for n in range(7):
        event_at(f"old.{n}", old)
    assert retention.purge_old_events() == 7
    assert not AuditEvent.objects.filter(action__startswith="old.").exists()


def test_the_journal_still_refuses_any_other_deletion():
    event = event_at("old.x", timezone.now() - timedelta(days=6 * 365))
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_the_cutoff_of_a_29_february():
    leap = timezone.now().replace(year=2028, month=2, day=29)
    assert retention.cutoff(leap).date().isoformat() == "2023-02-28"
