"""Home / login page, logout, rate limits, session rotation and timeouts, hash upgrade."""

import time
from pathlib import Path

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone

import portail.settings
from portail.accounts.middleware import SESSION_STARTED_KEY
from portail.accounts.models import User
from portail.audit.models import AuditEvent
from portail.settings import base
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

MANUAL_WORDS = [
    "Créez vous un compte.",
    "Validez vos accès.",
    "Accédez à vos démarches.",
    "En savoir plus",
    "Connectez-vous",
    "Pas encore de compte ?",
    "Se créer un compte",
    "Adresse électronique",
    "Mot de passe",
    "Mot de passe oublié ?",
    "Se connecter",
    "Si vous avez changé d'adresse mail, merci de vous créer un nouveau compte",
    "Agent du ministère ?",
    "Entrez votre adresse électronique",
    "Entrez votre mot de passe",
]


def login(client, email, password=PASSWORD, **extra):
    return client.post("/", {"email": email, "password": password, **extra})


def test_home_is_the_login_page_of_the_manual(client):
    response = client.get("/")
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200
    for words in MANUAL_WORDS:
        assert words in html, words
    assert 'href="/inscription/"' in html
    assert 'href="/mot-de-passe-oublie/"' in html
    assert 'href="/agent/"' in html


def test_connexion_url_shows_the_same_form_and_keeps_next(client):
    response = client.get("/connexion/?next=/demarches/")
    assert response.status_code == 200
    assert 'name="next" value="/demarches/"' in response.content.decode()


def test_agent_entry_leads_to_the_agents_login(client):
    response = client.get("/agent/")
    assert response.status_code == 302
    assert response["Location"] == "/agents/connexion/"


def test_login_with_any_case_goes_to_mes_demarches_with_a_new_session_key(client):
    user = UserFactory(email="alice@exemple.fr")
    client.get("/")
    client.session.save()
    before = client.session.session_key
    response = login(client, "  ALICE@Exemple.FR ")
    assert response.status_code == 302
    assert response["Location"] == "/demarches/"
    after = client.session.session_key
    assert after
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert int(client.session["_auth_user_id"]) == user.pk
    assert AuditEvent.objects.filter(action="account.login", actor=user).exists()


def test_login_keeps_next(client):
    UserFactory(email="bob@exemple.fr")
    response = login(client, "bob@exemple.fr", next="/habilitations/invitations/abc/")
    assert response["Location"] == "/habilitations/invitations/abc/"


def test_login_refuses_an_outside_next(client):
    UserFactory(email="bob@exemple.fr")
    response = login(client, "bob@exemple.fr", next="https://evil.example/")
    assert response["Location"] == "/demarches/"


def test_protected_page_redirects_to_login_with_next(client):
    response = client.get("/mon-compte/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/?next=/mon-compte/")


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    UserFactory(email="carole@exemple.fr")
    wrong = login(client, "carole@exemple.fr", "pas le bon mot de passe")
    unknown = login(client, "personne@exemple.fr", "pas le bon mot de passe")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()
        assert "_auth_user_id" not in client.session
    assert wrong.content.decode().count("incorrect") == unknown.content.decode().count("incorrect")
    failures = AuditEvent.objects.filter(action="account.login_failed")
    assert failures.count() == 2
    assert {e.data["reason"] for e in failures} == {"credentials"}


def test_login_form_errors_are_french_and_keep_the_email(client):
    response = client.post("/", {"email": "pas-une-adresse", "password": ""})
    html = response.content.decode()
    assert "Saisissez une adresse électronique valide" in html
    assert "Saisissez votre mot de passe." in html
    assert 'value="pas-une-adresse"' in html


def test_login_before_activation_says_so_and_offers_to_resend(client):
    UserFactory(email="dan@exemple.fr", unverified=True)
    response = login(client, "dan@exemple.fr")
    html = response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "pas encore activé" in html
    assert "Recevoir un nouveau lien d'activation" in html
    assert AuditEvent.objects.filter(action="account.login_failed", data__reason="not_activated")


def test_inactive_account_cannot_log_in(client):
    UserFactory(email="eve@exemple.fr", is_active=False)
    response = login(client, "eve@exemple.fr")
    assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()


def test_account_rate_limit_grows_and_blocks_even_the_right_password(
    limits_store, client, settings
):
    UserFactory(email="frank@exemple.fr")
    for _ in range(5):
        login(client, "frank@exemple.fr", "mauvais mot de passe 1")
    response = login(client, "frank@exemple.fr")
    assert response.status_code == 429
    assert "Trop de tentatives. Réessayez dans 1 minute." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="account.login_failed", data__reason="rate_limited")


def test_account_rate_limit_does_not_lock_other_accounts(limits_store, client):
    UserFactory(email="gina@exemple.fr")
    UserFactory(email="hugo@exemple.fr")
    for _ in range(5):
        login(client, "gina@exemple.fr", "mauvais mot de passe 1")
    assert login(client, "hugo@exemple.fr").status_code == 302


def test_account_wait_ends(limits_store, client, monkeypatch):
    UserFactory(email="ines@exemple.fr")
    for _ in range(5):
        login(client, "ines@exemple.fr", "mauvais mot de passe 1")
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert login(client, "ines@exemple.fr").status_code == 302


def test_ip_rate_limit_across_accounts(limits_store, client):
    UserFactory(email="jules@exemple.fr")
    for n in range(30):
        login(client, f"inconnu{n}@exemple.fr", "mauvais mot de passe 1")
    response = login(client, "jules@exemple.fr")
    assert response.status_code == 429
    # Another address is not blocked.
    other = client.post(
        "/", {"email": "jules@exemple.fr", "password": PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )
    assert other.status_code == 302


def test_logout_is_a_post_and_ends_the_session(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/deconnexion/").status_code == 405
    response = client.post("/deconnexion/")
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="account.logout", actor=user).exists()


def test_logged_in_user_visiting_home_goes_to_mes_demarches(client):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response["Location"] == "/demarches/"


def test_absolute_session_timeout(client, settings, monkeypatch):
    settings.SESSION_ABSOLUTE_TIMEOUT = 3600
    login(client, UserFactory().email)
    assert client.get("/mon-compte/").status_code == 200
    started = client.session[SESSION_STARTED_KEY]
    monkeypatch.setattr(time, "time", lambda: started + 3601)
    response = client.get("/mon-compte/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")
    assert "_auth_user_id" not in client.session


def test_idle_timeout_and_cookie_flags(client, settings):
    login(client, UserFactory().email)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE == 1800


def test_idle_timeout_slides_with_activity_saving_at_most_once_a_minute(
    client, settings, monkeypatch
):
    login(client, UserFactory().email)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    expiry = Session.objects.get(pk=session_key).expire_date
    started = client.session[SESSION_STARTED_KEY]

    # Within the minute: the session is not saved again (no query, no new cookie).
    monkeypatch.setattr(time, "time", lambda: started + 30)
    response = client.get("/mon-compte/")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.get(pk=session_key).expire_date == expiry

    # Active a minute later: saved again, its expiry pushed back, the cookie renewed.
    monkeypatch.setattr(time, "time", lambda: started + 61)
    response = client.get("/mon-compte/")
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 1800
    assert Session.objects.get(pk=session_key).expire_date > expiry


def test_a_session_expires_after_the_idle_timeout(client, settings):
    login(client, UserFactory().email)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(pk=session_key).update(expire_date=timezone.now())
    response = client.get("/mon-compte/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_production_cookies_are_secure():
    # prod.py refuses to import without its secrets: read what it sets.
    source = (Path(portail.settings.__file__).parent / "prod.py").read_text()
    assert "SESSION_COOKIE_SECURE = True" in source
    assert "CSRF_COOKIE_SECURE = True" in source


def test_old_argon2_hash_is_upgraded_at_login(client, settings):
    user = UserFactory(email="kim@exemple.fr")
    settings.ARGON2_TIME_COST = 1
    settings.ARGON2_MEMORY_COST_KIB = 512
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD))
    settings.ARGON2_TIME_COST = 2
    settings.ARGON2_MEMORY_COST_KIB = 1024
    assert login(client, "kim@exemple.fr").status_code == 302
    stored = User.objects.get(pk=user.pk).password
    assert "m=1024,t=2,p=1" in stored
    assert identify_hasher(stored).algorithm == "argon2"


def test_pbkdf2_hash_is_upgraded_to_argon2id_at_login(client):
    user = UserFactory(email="lea@exemple.fr")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    assert login(client, "lea@exemple.fr").status_code == 302
    assert User.objects.get(pk=user.pk).password.startswith("argon2$argon2id$")


def test_login_post_needs_the_csrf_token():
    UserFactory(email="csrf@exemple.fr")
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/", {"email": "csrf@exemple.fr", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session
    page = strict.get("/")
    token = page.cookies["csrftoken"].value
    ok = strict.post(
        "/", {"email": "csrf@exemple.fr", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert ok.status_code == 302


def test_pages_of_signed_in_people_are_not_cached(client):
    client.force_login(UserFactory())
    response = client.get("/mon-compte/")
    assert "no-store" in response["Cache-Control"]


def test_a_login_costs_few_queries(client, django_assert_max_num_queries):
    UserFactory(email="rapide@exemple.fr")
    # A slot taken on each of the 2 rate limits (a new key: one INSERT each) and given back (an
    # UPDATE each), each in its own transaction (decision 0012); the user, whether it has a
    # second factor, last_login, the audit event; the browser remembered (is it the account's
    # first? insert); with the response, the new session's row and its row of "Mes sessions et
    # appareils", inserted together (decision 0014; 30 before). Inside the test's transaction,
    # the atomic blocks count as SAVEPOINT / RELEASE queries; on PostgreSQL the four rate-limit
    # transactions add their SET LOCAL synchronous_commit.
    with django_assert_max_num_queries(30 if connection.vendor == "postgresql" else 26):
        response = login(client, "rapide@exemple.fr")
    assert response.status_code == 302
    # Already logged in: the session and the user (the session is saved again after a minute).
    with django_assert_max_num_queries(2):
        assert client.get("/connexion/").status_code == 302


def test_argon2id_parameters_stated_in_settings_are_owasps():
    assert (base.ARGON2_TIME_COST, base.ARGON2_MEMORY_COST_KIB, base.ARGON2_PARALLELISM) == (
        2,
        19 * 1024,
        1,
    )
    assert base.PASSWORD_HASHERS[0] == "portail.accounts.hashers.Argon2idHasher"
