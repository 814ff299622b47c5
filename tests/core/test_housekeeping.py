import logging
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from portail.core import housekeeping
from portail.demarches.catalogue import install_catalogue
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import AccessRequest
from tests.factories import EstablishmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _request(expires_at):
    ceres = Demarche.objects.get(code="ceres")
    return AccessRequest.objects.create(
        requester=UserFactory(),
        demarche=ceres,
        establishment=EstablishmentFactory(),
        role=ceres.roles.get(code="centre-agree"),
        expires_at=expires_at,
    )


def test_expired_access_requests_and_sessions_are_cleared():
    old = _request(timezone.now() - timedelta(days=1))
    fresh = _request(timezone.now() + timedelta(days=1))
    stale = SessionStore()
    stale.set_expiry(-10)
    stale.create()
    live = SessionStore()
    live.create()

    done = housekeeping.run()

    assert done["access_requests_expired"] == 1
    assert done["sessions_cleared"] >= 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == AccessRequest.Status.EXPIRED
    assert fresh.status == AccessRequest.Status.PENDING
    assert Session.objects.filter(session_key=live.session_key).exists()
    assert not Session.objects.filter(session_key=stale.session_key).exists()


def test_a_failing_chore_does_not_stop_the_others(monkeypatch, caplog):
    def broken():
        raise RuntimeError("broken chore")

    monkeypatch.setitem(housekeeping.CHORES, "broken", broken)
    done = housekeeping.run()
    assert done["broken"] == -1
    assert done["sessions_cleared"] >= 0
    assert "broken" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_worker_runs_housekeeping(mailbox):
    # The worker closes stale connections between polls: it needs real transactions.
    install_catalogue(Demarche, Role)
    old = _request(timezone.now() - timedelta(days=1))
    call_command("run_email_worker", "--once")
    old.refresh_from_db()
    assert old.status == AccessRequest.Status.EXPIRED


def test_housekeeping_command(capsys):
    call_command("housekeeping")
    assert "access_requests_expired: 0" in capsys.readouterr().out


@pytest.fixture
def chores(monkeypatch):
    """The chores as the apps registered them, restored after the test."""
    monkeypatch.setattr(housekeeping, "CHORES", dict(housekeeping.CHORES))
    return housekeeping.CHORES


def test_each_app_registers_its_chores():
    assert set(housekeeping.CHORES) == {
        "access_requests_expired",
        "delegations_ended",
        "access_reviews",
        "sessions_cleared",
        "ratelimits_expired",
        "oauth_tokens_cleared",
        "known_browsers_forgotten",
        "establishment_closures",
        "dormant_accounts_warned",
        "dormant_accounts_deactivated",
        "unactivated_accounts_deleted",
        "outbox_bodies_purged",
        "journal_purged",
    }


def test_a_registered_chore_runs_with_the_others(chores):
    housekeeping.register_chore("widgets_tidied", lambda: 7)
    housekeeping.register_chore("nothing_said", lambda: None)
    done = housekeeping.run()
    assert done["widgets_tidied"] == 7
    assert done["nothing_said"] == 0
    assert set(done) == {
        "access_requests_expired",
        "delegations_ended",
        "access_reviews",
        "sessions_cleared",
        "ratelimits_expired",
        "oauth_tokens_cleared",
        "known_browsers_forgotten",
        "establishment_closures",
        "dormant_accounts_warned",
        "dormant_accounts_deactivated",
        "unactivated_accounts_deleted",
        "outbox_bodies_purged",
        "journal_purged",
        "widgets_tidied",
        "nothing_said",
    }


def test_run_may_name_the_chores_to_run(chores):
    housekeeping.register_chore("widgets_tidied", lambda: 7)
    assert housekeeping.run(only=["widgets_tidied", "not_registered"]) == {"widgets_tidied": 7}


def test_a_failing_registered_chore_is_logged_and_counts_minus_one(chores, caplog):
    def broken():
        raise RuntimeError("the widgets are stuck")

    housekeeping.register_chore("widgets_tidied", broken)
    with caplog.at_level(logging.ERROR, logger="portail.core.housekeeping"):
        done = housekeeping.run()
    assert done["widgets_tidied"] == -1
    assert done["sessions_cleared"] >= 0
    assert "Housekeeping chore widgets_tidied failed" in caplog.text
    assert "the widgets are stuck" in caplog.text
