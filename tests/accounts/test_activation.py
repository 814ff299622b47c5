"""Activation link: a GET page with a button, the POST activates; expired, used, forged links."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portail.accounts import flows
from portail.accounts.models import AccountToken, User
from portail.audit.models import AuditEvent
from portail.notifications.models import OutboxEmail
from tests.accounts.helpers import PASSWORD, link_in, path_of, signup_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def signed_up(client, email="nouvelle.personne@exemple.fr") -> tuple[User, str]:
    client.post("/inscription/", signup_data(client, account_type="particulier", email=email))
    user = User.objects.get(email=email)
    body = OutboxEmail.objects.filter(recipient=email).latest("id").body_text
    return user, path_of(link_in(body, "/activation/"))


def test_token_has_256_bits_and_only_its_hash_is_stored(client):
    user, path = signed_up(client)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    stored = AccountToken.objects.get(user=user)
    assert token not in stored.token_hash
    assert stored.expires_at - stored.created_at == timedelta(hours=48)


def test_get_shows_the_button_and_activates_nothing(client):
    user, path = signed_up(client)
    response = client.get(path)
    assert response.status_code == 200
    assert "Activer mon compte" in response.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_post_activates_then_offers_to_go_to_the_portal_and_login_works(client):
    user, path = signed_up(client)
    response = client.post(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Accéder au portail" in html
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="account.activated", actor=user).exists()
    assert client.post("/", {"email": user.email, "password": PASSWORD}).status_code == 302


def test_a_used_link_has_its_own_page(client):
    _user, path = signed_up(client)
    client.post(path)
    again = client.get(path)
    assert again.status_code == 410
    assert "Lien déjà utilisé" in again.content.decode()
    assert client.post(path).status_code == 410


def test_an_expired_link_has_its_own_page_with_a_way_to_get_a_new_one(client):
    user, path = signed_up(client)
    AccountToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 410
    assert "Lien expiré" in html
    assert "Recevoir un nouveau lien" in html
    assert client.post(path).status_code == 410
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_a_forged_link_is_unknown(client):
    signed_up(client)
    response = client.get("/activation/forged-token-value/")
    assert response.status_code == 404
    assert "Lien non valide" in response.content.decode()


def test_a_token_of_another_purpose_does_not_activate(client):
    user = UserFactory(unverified=True)
    flows.request_password_reset(user.email)
    body = OutboxEmail.objects.get(recipient=user.email).body_text
    token = link_in(body, "/mot-de-passe-oublie/").rstrip("/").rsplit("/", 1)[1]
    assert client.post(f"/activation/{token}/").status_code == 404


def test_resend_activation_sends_a_new_link_and_says_the_same_for_unknown_addresses(client):
    user = UserFactory(email="lent@exemple.fr", unverified=True)
    known = client.post("/activation/renvoyer/", {"email": "lent@exemple.fr"})
    unknown = client.post("/activation/renvoyer/", {"email": "inconnu@exemple.fr"})
    assert known.status_code == unknown.status_code == 200
    assert "Si un compte non activé existe" in known.content.decode()
    assert "Si un compte non activé existe" in unknown.content.decode()
    assert OutboxEmail.objects.filter(recipient="lent@exemple.fr").count() == 1
    assert not OutboxEmail.objects.filter(recipient="inconnu@exemple.fr").exists()
    assert AccountToken.objects.filter(user=user, purpose="activation").count() == 1


def test_resend_is_rate_limited_per_address(limits_store, client):
    UserFactory(email="lent@exemple.fr", unverified=True)
    for _ in range(5):
        client.post("/activation/renvoyer/", {"email": "lent@exemple.fr"})
    assert OutboxEmail.objects.filter(recipient="lent@exemple.fr").count() == 3


def test_guessing_tokens_is_rate_limited(limits_store, client):
    for n in range(20):
        client.get(f"/activation/guess-{n}/")
    assert client.get("/activation/guess-x/").status_code == 429


def test_next_of_an_invitation_link_survives_sign_up_and_activation(client):
    invitation = "/habilitations/invitations/un-jeton/"
    login_page = client.get(f"/connexion/?next={invitation}").content.decode()
    assert 'href="/inscription/?next=/habilitations/invitations/un-jeton/"' in login_page
    client.get(f"/inscription/?next={invitation}")
    _user, path = signed_up(client)
    activated = client.post(path).content.decode()
    assert 'href="/?next=/habilitations/invitations/un-jeton/"' in activated
    response = client.post(
        "/", {"email": "nouvelle.personne@exemple.fr", "password": PASSWORD, "next": invitation}
    )
    assert response["Location"] == invitation


def test_an_outside_next_is_not_kept_for_after_activation(client):
    client.get("/inscription/?next=https://evil.example/")
    _user, path = signed_up(client)
    assert "evil.example" not in client.post(path).content.decode()
