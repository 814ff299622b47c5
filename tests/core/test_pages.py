"""Pages that belong to no feature: DSFR layout, error pages, health check, security headers."""

import logging

import pytest
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from portail.notifications.models import OutboxEmail
from portail.urls import urlpatterns as portal_urlpatterns

pytestmark = pytest.mark.django_db


@login_not_required
def boom(request):
    raise RuntimeError("kaboom")


urlpatterns = [*portal_urlpatterns, path("boom/", boom)]
handler500 = "portail.core.views.server_error"


def test_home_has_dsfr_header_footer_and_skip_links(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert "République<br>Française" in html
    assert "Mes Démarches Emploi et Formation Professionnelle" in html
    assert "Mentions légales" in html
    assert "Accessibilité" in html
    assert "fr-skiplinks" in html
    assert "v 0.1.0" in html
    assert "/static/dsfr/dist/dsfr.min.css" in html or "dsfr/dist/dsfr" in html


def test_security_headers(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert len(response["X-Request-Id"]) >= 8


def test_no_inline_script_on_home(client):
    html = client.get("/").content.decode()
    client.get("/")["Content-Security-Policy"]
    import re

    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, f"inline script: {tag}"


def test_404_is_a_dsfr_page_in_french(client):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page non trouvée" in html
    assert "fr-header" in html


@pytest.mark.urls(__name__)
def test_500_shows_an_incident_reference_that_is_in_the_log(client, caplog):
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom/", headers={"X-Request-Id": "incident-1234abcd"})
    assert response.status_code == 500
    html = response.content.decode()
    assert "Erreur inattendue" in html
    assert "incident-1234abcd" in html
    assert "kaboom" not in html
    assert "Traceback" not in html
    assert any("incident-1234abcd" in r.getMessage() for r in caplog.records)


def test_healthz_reports_database_and_backlog(client):
    OutboxEmail.objects.create(
        recipient="a@exemple.fr", subject="s", body_text="t", category="test"
    )
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "outbox_pending": 1,
        "outbox_failed": 0,
        "cache": {"backend": "database", "status": "ok"},
    }


def test_csrf_failure_is_a_french_page(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/deconnexion/")
    assert response.status_code == 403
    assert "Session expirée" in response.content.decode()


def test_legal_pages_are_public(client):
    assert client.get("/mentions-legales/").status_code == 200
    assert client.get("/accessibilite/").status_code == 200
