"""Passkeys through the portal's endpoints, with a software authenticator standing in for the
person's device: registration, login with the key alone or as the second step, step-up,
removal of the last one; and every bad input (another account, another origin, a tampered
answer, a challenge used twice)."""

import pytest

from portail.accounts.factor_models import Passkey
from portail.audit.models import AuditEvent
from portail.core import strong_auth
from tests.accounts.mfa_helpers import password_step
from tests.accounts.soft_authenticator import SoftAuthenticator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.WEBAUTHN_RP_ID = "testserver"
    settings.WEBAUTHN_ORIGIN = "http://testserver"


def enrol(client, user, name="Ordinateur") -> SoftAuthenticator:
    device = SoftAuthenticator()
    client.force_login(user)
    options = client.post("/cle-d-acces/register/options/").json()
    assert options["authenticatorSelection"]["residentKey"] == "required"
    answer = client.post(
        "/mon-compte/double-authentification/cle-d-acces/",
        {"name": name, "credential": device.create(options)},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["redirect"] == "/mon-compte/double-authentification/"
    client.logout()
    return device


def prove(client, device, purpose, **fields):
    options = client.post(f"/cle-d-acces/{purpose}/options/").json()
    tamper = fields.pop("tamper", False)
    origin = fields.pop("origin", None)
    credential = device.get(options, tamper=tamper, origin=origin)
    return client.post(f"/cle-d-acces/{purpose}/", {"credential": credential, **fields})


def failures(user):
    return list(
        AuditEvent.objects.filter(action="account.mfa.failed", target_id=str(user.pk)).values_list(
            "data__reason", flat=True
        )
    )


def test_register_then_sign_in_with_the_key_alone(client):
    user = UserFactory()
    device = enrol(client, user)
    passkey = Passkey.objects.get(user=user)
    assert passkey.name == "Ordinateur"
    assert passkey.last_used_at is None
    answer = prove(client, device, "passwordless", next="/mon-compte/")
    assert answer.json() == {"redirect": "/mon-compte/"}
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[strong_auth.AUTH_KEY]["amr"] == ["hwk", "user", "mfa"]
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    assert passkey.sign_count == 1


def test_the_key_as_the_second_step_after_the_password(client):
    user = UserFactory()
    device = enrol(client, user)
    password_step(client, user)
    assert "_auth_user_id" not in client.session
    page = client.get("/connexion/verification/").content.decode()
    assert "Utiliser ma clé d&#x27;accès" in page or "Utiliser ma clé d'accès" in page
    answer = prove(client, device, "login")
    assert answer.status_code == 200
    assert client.session[strong_auth.AUTH_KEY]["amr"] == ["pwd", "hwk", "user", "mfa"]


def test_a_key_of_another_account_is_refused_at_the_second_step(client):
    owner, other = UserFactory(), UserFactory()
    device = enrol(client, owner)
    enrol(client, other)
    password_step(client, other)
    answer = prove(client, device, "login")
    assert answer.status_code == 400
    assert "_auth_user_id" not in client.session
    assert failures(other) == ["another_account"]


def test_an_answer_for_another_origin_is_refused(client):
    user = UserFactory()
    device = enrol(client, user)
    answer = prove(client, device, "passwordless", origin="https://portail.example")
    assert answer.status_code == 400
    assert "n'a pas été reconnue" in answer.json()["error"]
    assert "_auth_user_id" not in client.session
    assert failures(user) == ["InvalidAuthenticationResponse"]


def test_a_tampered_answer_is_refused(client):
    user = UserFactory()
    device = enrol(client, user)
    answer = prove(client, device, "passwordless", tamper=True)
    assert answer.status_code == 400
    assert "_auth_user_id" not in client.session
    assert failures(user) == ["InvalidAuthenticationResponse"]


def test_a_challenge_serves_once(client):
    user = UserFactory()
    device = enrol(client, user)
    options = client.post("/cle-d-acces/passwordless/options/").json()
    credential = device.get(options)
    other = type(client)()
    # Replayed by someone else (no challenge in their session), then by the same browser.
    assert other.post("/cle-d-acces/passwordless/", {"credential": credential}).status_code == 400
    assert client.post("/cle-d-acces/passwordless/", {"credential": credential}).status_code == 200
    client.logout()
    assert client.post("/cle-d-acces/passwordless/", {"credential": credential}).status_code == 400


def test_a_registration_for_another_origin_is_refused(client):
    user = UserFactory()
    client.force_login(user)
    options = client.post("/cle-d-acces/register/options/").json()
    answer = client.post(
        "/mon-compte/double-authentification/cle-d-acces/",
        {
            "name": "Clé",
            "credential": SoftAuthenticator().create(options, origin="https://x.example"),
        },
    )
    assert answer.status_code == 400
    assert not Passkey.objects.exists()


def test_removing_the_last_key_needs_the_key(client):
    user = UserFactory()
    device = enrol(client, user)
    passkey = Passkey.objects.get(user=user)
    client.force_login(user)
    url = f"/mon-compte/double-authentification/passkey/{passkey.pk}/supprimer/"
    response = client.post(url, {"code": ""})
    assert "dernier moyen de vérification" in response.content.decode()
    assert Passkey.objects.exists()
    answer = prove(client, device, "removal", remove=str(passkey.pk))
    assert answer.json() == {"redirect": "/mon-compte/double-authentification/"}
    assert not Passkey.objects.exists()
    removed = AuditEvent.objects.get(action="account.mfa.removed", target_id=str(user.pk))
    assert removed.data == {"factor": "passkey", "name": "Ordinateur", "last": True}


def test_guesses_with_keys_are_throttled_per_account(client):
    owner, other = UserFactory(), UserFactory()
    device = enrol(client, owner)
    enrol(client, other)
    password_step(client, other)
    for _ in range(5):
        prove(client, device, "login")
    answer = prove(client, device, "login")
    assert answer.status_code == 429
    assert "Trop de tentatives" in answer.json()["error"]


def test_an_agent_signs_in_to_the_back_office_with_a_passkey(client):
    from django.urls import reverse

    from portail.backoffice.models import AgentProfile

    backoffice = reverse("backoffice:home")
    agent = UserFactory()
    AgentProfile.objects.create(user=agent, is_national=True)
    device = enrol(client, agent)
    assert client.get(backoffice).status_code == 404  # not signed in: as if absent
    answer = prove(client, device, "passwordless", next=backoffice)
    assert answer.json() == {"redirect": backoffice}
    assert client.get(backoffice).status_code == 200
