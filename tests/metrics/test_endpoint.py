"""/metrics: hidden from everybody but a scraper with the token or on an internal address."""

import pytest
from django.test import Client

from tests.backoffice.conftest import login_agent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "a-scraper-token-of-the-test-0123456789"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def scrape(client: Client, token: str | None = TOKEN, **extra: str):
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get("/metrics", **extra)


def test_the_right_token_gets_the_named_series(client):
    client.get("/healthz")  # one request timed
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    for series in (
        "portail_request_duration_seconds_bucket",
        "portail_requests_total",
        "portail_database_up 1.0",
        'portail_outbox_emails{status="pending"}',
        "portail_outbox_retrying",
        "portail_outbox_oldest_pending_seconds",
        "# HELP portail_logins_total",
        "# HELP portail_second_factor_total",
        "# HELP portail_activation_codes_redeemed_total",
    ):
        assert series in text, series
    assert 'view="healthz"' in text
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN + "x", TOKEN[:-1]])
def test_no_token_or_a_wrong_one_gets_the_404_page(client, token):
    response = scrape(client, token)
    assert response.status_code == 404
    assert b"portail_" not in response.content


def test_basic_instead_of_bearer_is_refused(client):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    assert response.status_code == 404


def test_no_token_configured_means_nobody(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client, "").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_a_logged_in_person_without_the_token_gets_404(client):
    client.force_login(UserFactory())
    assert scrape(client, None).status_code == 404


def test_an_agent_without_the_token_gets_404(client, pdl_agent):
    login_agent(client, pdl_agent)
    assert scrape(client, None).status_code == 404


def test_an_agent_with_the_token_gets_the_metrics(client, pdl_agent):
    login_agent(client, pdl_agent)
    assert scrape(client).status_code == 200


def test_an_internal_address_reaching_the_process_directly_needs_no_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert scrape(client, None, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert scrape(client, None, REMOTE_ADDR="192.0.2.7").status_code == 404


def test_an_internal_address_through_the_proxy_is_not_enough(client, settings):
    # Behind the reverse proxy, REMOTE_ADDR is the proxy's: the forwarded client decides nothing.
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    response = scrape(client, None, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 404


def test_post_is_refused(client):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code in {403, 405}  # CSRF or method: never the metrics
