"""`plain_insert.insert` writes the row `save()` writes, sends the same signals, and leaves a
failed insert's transaction marked for rollback, like the ORM."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext

from portail.audit.models import AuditEvent
from portail.core.plain_insert import insert
from portail.notifications.models import OutboxEmail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def columns(row, skip=("id", "at", "created_at", "message_id")) -> dict:
    fresh = type(row).objects.get(pk=row.pk)
    return {
        f.attname: getattr(fresh, f.attname) for f in row._meta.concrete_fields
    } | dict.fromkeys(skip)


def events(user) -> list[AuditEvent]:
    def make():
        return AuditEvent(
            actor=user,
            actor_label=user.email,
            action="account.login",
            target_type="accounts.user",
            target_id=str(user.pk),
            target_label="« Nina » <n>",
            demarche_id=None,
            establishment_id=12,
            ip="2001:db8::1",
            request_id="r-1",
            data={"browser": "Firefox", "nested": {"é": [1, 2.5, None, True]}},
        )

    return [make(), make()]


def test_a_journal_line_is_the_orm_s_row():
    user = UserFactory()
    ours, theirs = events(user)
    insert(ours)
    theirs.save(force_insert=True)
    assert ours.pk is not None
    assert ours.pk == theirs.pk - 1
    assert not ours._state.adding
    assert ours.at is not None
    assert columns(ours) == columns(theirs)
    assert AuditEvent.objects.get(pk=ours.pk).at == ours.at


def test_an_outbox_email_is_the_orm_s_row():
    def make():
        return OutboxEmail(
            recipient="nina@banc.fr",
            subject="Sujet « é »",
            body_text="texte\n",
            body_html="<p>html</p>",
            category="compte",
            template="accounts/emails/new_browser",
            demarche_id=3,
        )

    ours, theirs = make(), make()
    insert(ours)
    theirs.save(force_insert=True)
    assert isinstance(ours.message_id, uuid.UUID)
    assert OutboxEmail.objects.get(pk=ours.pk).message_id == ours.message_id
    assert columns(ours) == columns(theirs)


def test_one_statement_and_the_signals_of_save():
    user = UserFactory()
    (event, _) = events(user)
    heard = []

    def before(sender, instance, **kwargs):
        heard.append(("pre", instance.pk, kwargs["raw"], kwargs["update_fields"]))

    def after(sender, instance, created, **kwargs):
        heard.append(("post", instance.pk, created, kwargs["update_fields"]))

    pre_save.connect(before, sender=AuditEvent)
    post_save.connect(after, sender=AuditEvent)
    try:
        with CaptureQueriesContext(connection) as captured:
            insert(event)
    finally:
        pre_save.disconnect(before, sender=AuditEvent)
        post_save.disconnect(after, sender=AuditEvent)
    assert len(captured.captured_queries) == 1
    assert heard == [("pre", None, False, None), ("post", event.pk, True, None)]


def test_a_failed_insert_marks_the_transaction_for_rollback():
    email = OutboxEmail(recipient="a@banc.fr", subject="s", category="c", template="t")
    insert(email)
    again = OutboxEmail(
        recipient="a@banc.fr", subject="s", category="c", template="t", message_id=email.message_id
    )
    with transaction.atomic():  # caught inside: the block rolls back when it ends
        with pytest.raises(IntegrityError):
            insert(again)
        assert transaction.get_rollback()
    assert OutboxEmail.objects.filter(message_id=email.message_id).count() == 1


def test_a_row_with_its_key_set_goes_to_save():
    email = OutboxEmail(pk=987654, recipient="a@banc.fr", subject="s", category="c", template="t")
    insert(email)
    assert OutboxEmail.objects.get(pk=987654).recipient == "a@banc.fr"


def test_a_row_whose_key_python_sets_is_the_orm_s_row():
    """Django's session row and its `UserSession` (keys set by Python): written with their key,
    nothing read back, one statement each."""
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from portail.accounts.models import UserSession

    user = UserFactory()
    expires = timezone.now() + timedelta(hours=1)
    ours, theirs = (
        Session(session_key=key, session_data="données « é »", expire_date=expires)
        for key in ("a" * 32, "b" * 32)
    )
    with CaptureQueriesContext(connection) as captured:
        insert(ours)
    theirs.save(force_insert=True)
    assert len(captured.captured_queries) == 1
    assert not ours._state.adding
    assert columns(ours, skip=("session_key",)) == columns(theirs, skip=("session_key",))

    def index(session: Session) -> UserSession:
        return UserSession(
            user=user, session=session, browser="Firefox", system="Linux", ip_masked="192.0.2.xxx"
        )

    mine, django_s = index(ours), index(theirs)
    key = mine.pk
    insert(mine)
    django_s.save(force_insert=True)
    assert mine.pk == key
    skip = ("id", "session_id", "started_at", "last_seen_at")
    assert columns(mine, skip=skip) == columns(django_s, skip=skip)
    assert UserSession.objects.get(pk=key).session_id == "a" * 32
    with transaction.atomic(), pytest.raises(IntegrityError):  # the same key twice
        insert(Session(session_key="a" * 32, session_data="", expire_date=expires))
