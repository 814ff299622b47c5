"""The machines' endpoints skip the people's layers; people's pages keep every header."""

import pytest
from django.contrib.auth.middleware import LoginRequiredMiddleware as Django
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.functional import SimpleLazyObject, empty

from portail.core import people_middleware
from portail.core.middleware import LoginRequiredMiddleware, _signed_in
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


def test_a_request_without_a_session_does_not_read_its_user_for_a_view_open_to_all(rf, settings):
    """LoginRequiredMiddleware looks at the view first without a session cookie; the answer is
    Django's (a login-required view still sends the anonymous caller to the login)."""

    def open_view(request):
        return HttpResponse()

    open_view.login_required = False  # as login_not_required marks it

    def closed_view(request):
        return HttpResponse()

    read = []

    def request(cookie: bool):
        made = rf.get("/x/")
        if cookie:
            made.COOKIES[settings.SESSION_COOKIE_NAME] = "unknown"
        made.user = SimpleLazyObject(lambda: read.append(1) or AnonymousUser())
        return made

    ours, django = LoginRequiredMiddleware(lambda r: HttpResponse()), Django(lambda r: None)
    bare = request(cookie=False)
    assert ours.process_view(bare, open_view, (), {}) is None
    assert bare.user._wrapped is empty
    assert not read
    for cookie in (False, True):
        closed, closed_too = request(cookie), request(cookie)
        ours_answer = ours.process_view(closed, closed_view, (), {})
        assert (
            ours_answer["Location"]
            == django.process_view(closed_too, closed_view, (), {})["Location"]
        )
        with_cookie = request(cookie)
        assert ours.process_view(with_cookie, open_view, (), {}) is None
        assert (with_cookie.user._wrapped is empty) is not cookie  # Django's order with a session


def test_the_machines_answers_are_not_said_to_vary_by_cookie_and_pages_are(client):
    keys = client.get("/o/.well-known/jwks.json")
    assert "Cookie" not in keys.get("Vary", "")  # the session was not read: no cookie changes it
    assert "Cache-Control" in keys
    assert "private" not in keys["Cache-Control"]
    assert client.get("/")["Vary"] == "Cookie, Accept-Language"
    user = UserFactory()
    client.force_login(user)
    signed_in = client.get("/o/.well-known/jwks.json")
    assert signed_in["Vary"] == "Cookie"  # with a session: Django's order, the user read
    page = client.get("/mon-compte/")
    assert page["Cache-Control"].startswith("max-age=0") or "private" in page["Cache-Control"]


def test_a_signed_in_page_is_never_kept_in_shared_caches(rf):
    """The CSP layer's Cache-Control: a user set by a login in the request (no cookie yet) counts;
    a lazy user not read, without a session, is anonymous."""

    request = rf.get("/")
    request.user = UserFactory()
    assert _signed_in(request)
    request.user = SimpleLazyObject(AnonymousUser)
    assert not _signed_in(request)
    request.user = SimpleLazyObject(UserFactory)  # read (by a page): its answer
    assert request.user.is_authenticated
    assert _signed_in(request)
