"""Each series moves with what it counts: real requests, real flows, real journal lines."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from prometheus_client import REGISTRY

from portail.audit.journal import record
from portail.demarches.catalogue import CERES
from portail.habilitations.grants import revoke_habilitation
from portail.habilitations.models import HabilitationChange
from portail.notifications.models import OutboxEmail
from portail.oidc.clients import set_webhook
from portail.oidc.webhooks import deliver_webhooks
from tests.backoffice.factories import current_code
from tests.demarches.factories import issued_code
from tests.factories import PASSWORD, EstablishmentFactory, HabilitationFactory, UserFactory

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


@pytest.mark.postgres_only(reason="pg_stat_activity is PostgreSQL's")
def test_database_connections_on_postgresql(client, settings):
    text = scraped(client, settings)
    assert 'portail_db_connections{state="active"}' in text
    assert "portail_db_max_connections" in text


def test_second_factor_of_portal_accounts(django_capture_on_commit_callbacks):
    user = UserFactory()
    before = value("portail_account_second_factor_total", factor="totp", outcome="success")
    before_ko = value("portail_account_second_factor_total", factor="code", outcome="failure")
    before_recovery = value(
        "portail_account_second_factor_total", factor="recovery", outcome="success"
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        record("account.mfa.used", actor=user, data={"factor": "totp", "purpose": "login"})
        record("account.mfa.failed", actor=user, data={"purpose": "login"})
        record("account.mfa.recovery_code_used", actor=user, data={"remaining": 9})
    assert value("portail_account_second_factor_total", factor="totp", outcome="success") == (
        before + 1
    )
    assert value("portail_account_second_factor_total", factor="code", outcome="failure") == (
        before_ko + 1
    )
    assert value("portail_account_second_factor_total", factor="recovery", outcome="success") == (
        before_recovery + 1
    )


def test_feed_backlog_and_delivery_lag(client, settings, ceres):
    set_webhook(actor=None, demarche=ceres, url="http://127.0.0.1:9/injoignable/")
    text = scraped(client, settings)
    assert 'portail_feed_backlog_events{demarche="ceres"} 0.0' in text
    assert 'portail_feed_delivery_lag_seconds{demarche="ceres"} 0.0' in text
    habilitation = HabilitationFactory(role=ceres.roles.first())
    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=habilitation)
    deliver_webhooks()  # port 9 (discard): refused, the event waits
    HabilitationChange.objects.update(occurred_at=timezone.now() - timedelta(minutes=5))
    text = scraped(client, settings)
    waiting = re.search(r'^portail_feed_backlog_events\{demarche="ceres"\} (\S+)$', text, re.M)
    assert waiting is not None
    assert float(waiting.group(1)) >= 1
    lag = re.search(r'^portail_feed_delivery_lag_seconds\{demarche="ceres"\} (\S+)$', text, re.M)
    assert lag is not None
    assert 300 <= float(lag.group(1)) < 400
