"""Each series moves with what it counts: real requests, real flows, real journal lines."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from prometheus_client import REGISTRY

from portail.demarches.catalogue import CERES
from portail.notifications.models import OutboxEmail
from tests.backoffice.factories import current_code
from tests.demarches.factories import issued_code
from tests.factories import PASSWORD, EstablishmentFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "a-scraper-token-of-the-test-0123456789"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(client, settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def login(client, email, password=PASSWORD):
    return client.post("/", {"email": email, "password": password})


def test_request_latency_counts_by_view(client):
    before = value("portail_request_duration_seconds_count", view="healthz", method="GET")
    before_2xx = value("portail_requests_total", view="healthz", method="GET", status="2xx")
    client.get("/healthz")
    client.get("/healthz")
    assert value("portail_request_duration_seconds_count", view="healthz", method="GET") == (
        before + 2
    )
    assert value("portail_requests_total", view="healthz", method="GET", status="2xx") == (
        before_2xx + 2
    )


def test_unknown_paths_share_one_label(client):
    before = value("portail_requests_total", view="<unmatched>", method="GET", status="4xx")
    client.get("/no-such-page-1/")
    client.get("/no-such-page-2/")
    assert value("portail_requests_total", view="<unmatched>", method="GET", status="4xx") == (
        before + 2
    )


def test_logins_success_failure_and_throttled(client, django_capture_on_commit_callbacks):
    user = UserFactory()
    labels = {"kind": "portal"}
    before = {
        o: value("portail_logins_total", outcome=o, **labels)
        for o in ("success", "failure", "throttled")
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert login(client, user.email).status_code == 302
    assert value("portail_logins_total", outcome="success", **labels) == before["success"] + 1
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):  # the limit per account (accounts.views.LOGIN_PER_ACCOUNT)
            assert login(client, user.email, "pas le bon mot de passe").status_code == 200
    assert value("portail_logins_total", outcome="failure", **labels) == before["failure"] + 5
    with django_capture_on_commit_callbacks(execute=True):
        assert login(client, user.email).status_code == 429
    assert value("portail_logins_total", outcome="throttled", **labels) == before["throttled"] + 1
    assert value("portail_logins_total", outcome="success", **labels) == before["success"] + 1


def test_a_rolled_back_line_counts_nothing(client):
    # Without the commit (the test's transaction is rolled back), nothing is counted.
    user = UserFactory()
    before = value("portail_logins_total", kind="portal", outcome="success")
    assert login(client, user.email).status_code == 302
    assert value("portail_logins_total", kind="portal", outcome="success") == before


def test_second_factor_success_and_failure(client, pdl_agent, django_capture_on_commit_callbacks):
    before_ok = value("portail_second_factor_total", outcome="success")
    before_ko = value("portail_second_factor_total", outcome="failure")
    before_agent = value("portail_logins_total", kind="agent", outcome="success")
    login_url = reverse("backoffice:login")
    credentials = {"email": pdl_agent.user.email, "password": PASSWORD}
    assert client.post(login_url, credentials).status_code == 302
    device = TOTPDevice.objects.get(user=pdl_agent.user)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post(reverse("backoffice:otp"), {"code": current_code(device)}).status_code
            == 302
        )
    assert value("portail_second_factor_total", outcome="success") == before_ok + 1
    assert value("portail_logins_total", kind="agent", outcome="success") == before_agent + 1
    other = Client()  # a wrong code now (django-otp then throttles the device for a while)
    assert other.post(login_url, credentials).status_code == 302
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    with django_capture_on_commit_callbacks(execute=True):
        assert other.post(reverse("backoffice:otp"), {"code": wrong}).status_code == 200
    assert value("portail_second_factor_total", outcome="failure") == before_ko + 1
    assert value("portail_second_factor_total", outcome="success") == before_ok + 1


def test_codes_redeemed_and_refused(client, ceres, django_capture_on_commit_callbacks):
    user = UserFactory(with_establishment=True)
    site = EstablishmentFactory()
    _, code = issued_code(ceres, site)
    client.force_login(user)
    url = reverse("demarches:activate", args=[CERES])
    before_ok = value("portail_activation_codes_redeemed_total")
    before_ko = value("portail_activation_codes_refused_total")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"siret": site.siret, "code": "ABCD-EFGH-JKMN"})
    assert value("portail_activation_codes_refused_total") == before_ko + 1
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"siret": site.siret, "code": code}).status_code == 302
    assert value("portail_activation_codes_redeemed_total") == before_ok + 1
    assert value("portail_journal_events_total", action="demarche.activated") >= 1


def test_outbox_backlog_and_failures(client, settings):
    text = scraped(client, settings)
    assert 'portail_outbox_emails{status="pending"} 0.0' in text
    assert "portail_outbox_oldest_pending_seconds 0.0" in text
    common = {"subject": "Objet", "body_text": "Texte", "category": "test"}
    old = OutboxEmail.objects.create(recipient="a@exemple.fr", **common)
    OutboxEmail.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    OutboxEmail.objects.create(recipient="b@exemple.fr", attempts=2, **common)
    OutboxEmail.objects.create(
        recipient="c@exemple.fr", status=OutboxEmail.Status.FAILED, attempts=8, **common
    )
    text = scraped(client, settings)
    assert 'portail_outbox_emails{status="pending"} 2.0' in text
    assert 'portail_outbox_emails{status="failed"} 1.0' in text
    assert "portail_outbox_retrying 1.0" in text
    age = re.search(r"^portail_outbox_oldest_pending_seconds (\S+)$", text, re.MULTILINE)
    assert 3600 <= float(age.group(1)) < 3700


@pytest.mark.postgres_only
def test_database_connections_on_postgresql(client, settings):
    if connection.vendor != "postgresql":
        pytest.skip("pg_stat_activity is PostgreSQL's")
    text = scraped(client, settings)
    assert 'portail_db_connections{state="active"}' in text
    assert "portail_db_max_connections" in text
