"""The login page of a sign-in to a démarche lets its form lead on to that démarche (CSP)."""

from urllib.parse import quote

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("form-action")).strip()


def test_login_page_of_an_authorization_allows_the_registered_demarche(client, flow):
    response = client.get("/connexion/?next=" + quote(flow.authorize_url()))
    assert response.status_code == 200
    assert form_action(response) == "form-action 'self' https://demarche.example"


def test_an_unregistered_redirect_uri_adds_nothing(client, flow):
    url = flow.authorize_url(redirect_uri="https://evil.example/cb/")
    response = client.get("/connexion/?next=" + quote(url))
    assert form_action(response) == "form-action 'self'"


def test_other_pages_keep_form_action_self(client, flow):
    assert form_action(client.get("/connexion/?next=/demarches/")) == "form-action 'self'"
    assert form_action(client.get("/connexion/")) == "form-action 'self'"


def test_logout_confirmation_allows_the_demarche_it_returns_to(flow):
    browser = Client()
    browser.force_login(UserFactory())
    response = browser.get(
        "/o/logout/",
        {
            "client_id": flow.client_id,
            "post_logout_redirect_uri": "https://demarche.example/au-revoir/",
        },
    )
    assert response.status_code == 200
    assert form_action(response) == "form-action 'self' https://demarche.example"
