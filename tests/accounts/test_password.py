"""'Mot de passe oublié ?' and the change of password from 'Mon compte'."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portail.accounts.models import AccountToken, User
from portail.audit.models import AuditEvent
from portail.notifications.models import OutboxEmail
from tests.accounts.helpers import link_in, path_of
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW = "Un tout nouveau mot de passe"


def reset_link(client, email) -> str:
    client.post("/mot-de-passe-oublie/", {"email": email})
    body = OutboxEmail.objects.filter(recipient=email).latest("id").body_text
    return path_of(link_in(body, "/mot-de-passe-oublie/"))


def test_same_answer_whether_or_not_the_email_exists(client):
    UserFactory(email="anne@exemple.fr")
    known = client.post("/mot-de-passe-oublie/", {"email": "anne@exemple.fr"})
    unknown = client.post("/mot-de-passe-oublie/", {"email": "nobody@exemple.fr"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/mot-de-passe-oublie/envoye/"
    assert OutboxEmail.objects.filter(recipient="anne@exemple.fr").count() == 1
    assert not OutboxEmail.objects.filter(recipient="nobody@exemple.fr").exists()
    page = client.get("/mot-de-passe-oublie/envoye/").content.decode()
    assert "valable 1 heure" in page


def test_reset_sets_the_password_ends_every_session_and_sends_a_notice(client):
    user = UserFactory(email="anne@exemple.fr")
    elsewhere = Client()
    elsewhere.force_login(user)
    assert elsewhere.get("/mon-compte/").status_code == 200
    path = reset_link(client, "anne@exemple.fr")
    token = AccountToken.objects.get(user=user, purpose="password_reset")
    assert token.expires_at - token.created_at == timedelta(hours=1)
    assert client.get(path).status_code == 200
    response = client.post(path, {"password1": NEW, "password2": NEW})
    assert response["Location"] == "/"
    user.refresh_from_db()
    assert user.check_password(NEW)
    # The other browser is logged out.
    assert elsewhere.get("/mon-compte/").status_code == 302
    notice = OutboxEmail.objects.filter(recipient="anne@exemple.fr").latest("id")
    assert "Votre mot de passe a été modifié" in notice.subject
    assert AuditEvent.objects.filter(action="account.password_reset", target_id=str(user.pk))
    assert client.post("/", {"email": "anne@exemple.fr", "password": NEW}).status_code == 302


def test_reset_link_works_once(client):
    UserFactory(email="anne@exemple.fr")
    path = reset_link(client, "anne@exemple.fr")
    client.post(path, {"password1": NEW, "password2": NEW})
    again = client.post(path, {"password1": NEW + "x", "password2": NEW + "x"})
    assert again.status_code == 410
    assert "Lien déjà utilisé" in again.content.decode()


def test_expired_reset_link(client):
    user = UserFactory(email="anne@exemple.fr")
    path = reset_link(client, "anne@exemple.fr")
    AccountToken.objects.filter(user=user).update(expires_at=timezone.now())
    response = client.get(path)
    assert response.status_code == 410
    assert "Lien expiré" in response.content.decode()


def test_forged_reset_link(client):
    response = client.get("/mot-de-passe-oublie/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG/")
    assert response.status_code == 404
    assert "Lien non valide" in response.content.decode()


def test_reset_refuses_weak_or_different_passwords_in_french(client):
    UserFactory(email="anne@exemple.fr", first_name="Anne")
    path = reset_link(client, "anne@exemple.fr")
    differ = client.post(path, {"password1": NEW, "password2": NEW + "!"})
    assert "Les deux mots de passe ne sont pas identiques." in differ.content.decode()
    short = client.post(path, {"password1": "court", "password2": "court"})
    assert "Ce mot de passe est trop court." in short.content.decode()
    assert AccountToken.objects.usable().filter(purpose="password_reset").exists()


def test_reset_requests_are_rate_limited_per_address_silently(limits_store, client):
    UserFactory(email="anne@exemple.fr")
    for _ in range(5):
        assert client.post("/mot-de-passe-oublie/", {"email": "anne@exemple.fr"}).status_code == 302
    assert OutboxEmail.objects.filter(recipient="anne@exemple.fr").count() == 3


def test_reset_requests_are_rate_limited_per_ip(limits_store, client):
    for n in range(20):
        client.post("/mot-de-passe-oublie/", {"email": f"x{n}@exemple.fr"})
    response = client.post("/mot-de-passe-oublie/", {"email": "y@exemple.fr"})
    assert response.status_code == 200
    assert "Trop de tentatives" in response.content.decode()


def test_change_password_asks_the_current_one_and_keeps_this_session_only(client):
    user = UserFactory(email="ben@exemple.fr")
    elsewhere = Client()
    elsewhere.force_login(user)
    client.force_login(user)
    wrong = client.post(
        "/mon-compte/mot-de-passe/",
        {"current_password": "pas le bon", "password1": NEW, "password2": NEW},
    )
    assert "Le mot de passe actuel est incorrect." in wrong.content.decode()
    ok = client.post(
        "/mon-compte/mot-de-passe/",
        {"current_password": PASSWORD, "password1": NEW, "password2": NEW},
    )
    assert ok["Location"] == "/mon-compte/"
    assert User.objects.get(pk=user.pk).check_password(NEW)
    assert client.get("/mon-compte/").status_code == 200
    assert elsewhere.get("/mon-compte/").status_code == 302
    assert AuditEvent.objects.filter(action="account.password_changed", actor=user)
