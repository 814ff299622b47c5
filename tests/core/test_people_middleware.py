"""The machines' endpoints skip the people's layers; people's pages keep every header."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from portail.core import people_middleware
from portail.core.people_middleware import OneLanguageLocaleMiddleware, is_machine_request
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield "/" + route, entry.callback


def test_every_view_under_the_machine_paths_needs_no_login(settings):
    """Under MACHINE_PATHS nothing keeps a session alive nor shows messages: only views open to
    any caller (machines authenticate by their own means) may live there."""
    found = [
        (route, view)
        for route, view in _patterns(get_resolver())
        if route.startswith(tuple(settings.MACHINE_PATHS))
    ]
    assert len(found) >= 8
    for route, view in found:
        assert getattr(view, "login_required", True) is False, route
    assert not any(
        route.startswith(("/o/authorize", "/o/logout")) for route in settings.MACHINE_PATHS
    )


def test_a_machines_request_gets_no_language_nor_session_timeout(client):
    response = client.get("/o/.well-known/jwks.json")
    assert response.status_code == 200
    assert "Content-Language" not in response
    assert "Accept-Language" not in response.get("Vary", "")
    # The security headers and the request's id stay.
    assert response["X-Frame-Options"] == "DENY"
    assert response["Permissions-Policy"]
    assert response["X-Request-Id"]


def test_a_persons_page_gets_djangos_language_headers(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response["Content-Language"] == "fr"
    assert response["Vary"] == "Cookie, Accept-Language"


def test_a_signed_in_person_still_gets_the_timeout_and_messages(client, settings):
    user = UserFactory()
    client.post("/", {"email": user.email, "password": PASSWORD})
    session = client.session
    session["portail_auth_started_at"] = 1  # long ago: past the absolute timeout
    session.save()
    response = client.get("/mon-compte/", follow=True)
    assert "Votre session a expiré" in response.content.decode()


def test_one_language_is_djangos_answer(rf, settings):
    seen = {}

    def view(request):
        seen["code"] = request.LANGUAGE_CODE
        return HttpResponse()

    middleware = OneLanguageLocaleMiddleware(view)
    for header in ("en", "de-DE,de;q=0.9", "fr-CA", ""):
        response = middleware(rf.get("/", HTTP_ACCEPT_LANGUAGE=header))
        assert seen["code"] == "fr"
        assert response["Content-Language"] == "fr"
    # Two languages: Django's middleware chooses.
    settings.LANGUAGES = [("fr", "Français"), ("en", "English")]
    middleware(rf.get("/", HTTP_ACCEPT_LANGUAGE="en"))
    assert seen["code"] == "en"
    settings.LANGUAGES = [("fr", "Français")]
    middleware(rf.get("/", HTTP_ACCEPT_LANGUAGE="en"))
    assert seen["code"] == "fr"


def test_a_layer_with_view_hooks_cannot_be_skipped():
    class WithView:
        def __init__(self, get_response):
            self.get_response = get_response

        def process_view(self, *args):
            return None

    class Skipped(people_middleware.PeopleOnly, WithView):
        pass

    with pytest.raises(ImproperlyConfigured):
        Skipped(lambda request: HttpResponse())


def test_the_machine_paths_follow_the_settings(settings):
    request = RequestFactory().get("/o/token/")
    assert is_machine_request(request)
    settings.MACHINE_PATHS = ["/healthz"]
    assert not is_machine_request(request)
