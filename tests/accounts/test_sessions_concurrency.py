"""Ending sessions under concurrency: threads against a live server on PostgreSQL."""

import threading

import pytest
import requests

from portail.accounts.models import UserSession
from portail.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.postgres_only(
        reason="needs PostgreSQL (row locks): run with DATABASE_URL=postgres://…"
    ),
    pytest.mark.django_db(transaction=True),
]


def signed_in(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    browser.get(base + "/connexion/")
    response = browser.post(
        base + "/connexion/",
        data={
            "email": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": base + "/connexion/"},
        allow_redirects=False,
    )
    assert response.status_code == 302
    return browser


def post(base: str, browser: requests.Session, path: str, data: dict | None = None) -> int:
    response = browser.post(
        base + path,
        data={**(data or {}), "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": base + path},
        allow_redirects=False,
    )
    return response.status_code


def together(calls) -> list:
    barrier = threading.Barrier(len(calls))
    outcomes: list = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            outcomes.append(call())
        except Exception as exc:
            outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_browsers_ending_the_same_session_at_once_end_it_once(live_server):
    base = live_server.url
    user = UserFactory(email="anne@exemple.fr")
    for _ in range(3):
        desk, laptop, phone = (signed_in(base, user.email) for _ in range(3))
        target = UserSession.objects.filter(user=user).order_by("-started_at").first()
        before = AuditEvent.objects.filter(action="account.session_ended").count()
        outcomes = together(
            [
                lambda b=b, t=target.pk: post(
                    base, b, "/mon-compte/sessions/fermer/", {"session": t}
                )
                for b in (desk, laptop)
            ]
        )
        assert outcomes == [302, 302], outcomes
        assert not UserSession.objects.filter(pk=target.pk).exists()
        assert AuditEvent.objects.filter(action="account.session_ended").count() == before + 1
        assert phone.get(base + "/mon-compte/", allow_redirects=False).status_code == 302
        UserSession.objects.all().delete()


def test_two_browsers_ending_each_others_sessions_at_once_never_fail(live_server):
    base = live_server.url
    user = UserFactory(email="anne@exemple.fr")
    for _ in range(3):
        browsers = [signed_in(base, user.email) for _ in range(3)]
        outcomes = together(
            [
                lambda b=b: post(base, b, "/mon-compte/sessions/fermer-les-autres/")
                for b in browsers[:2]
            ]
        )
        assert outcomes == [302, 302], outcomes
        # The third one is ended by both; the first two by each other (or one survives).
        assert browsers[2].get(base + "/mon-compte/", allow_redirects=False).status_code == 302
        assert UserSession.objects.filter(user=user).count() <= 1
