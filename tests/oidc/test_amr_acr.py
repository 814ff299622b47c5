"""How the person signed in, said to the démarche (amr, acr, auth_time in the ID token), and
what a démarche may ask: acr_values, max_age, prompt=login."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from portail.audit.models import AuditEvent
from portail.oidc.authentication import ACR_MFA, ACR_PASSWORD
from tests.accounts.mfa_helpers import code_at, password_step, with_totp
from tests.factories import UserFactory
from tests.oidc.test_provider import decode_id_token

pytestmark = pytest.mark.django_db


def id_token_claims(client, flow, **overrides) -> dict:
    code = flow.get_code(client, **overrides)
    tokens = flow.token_request(client, code).json()
    return decode_id_token(client, tokens["id_token"])


def test_a_password_login_says_pwd(client, flow):
    user = UserFactory()
    password_step(client, user)
    claims = id_token_claims(client, flow)
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == ACR_PASSWORD
    assert abs(claims["auth_time"] - time.time()) < 60


def test_a_login_with_a_totp_code_says_otp_and_mfa(client, flow):
    user = UserFactory()
    key, _codes = with_totp(user)
    password_step(client, user)
    client.post("/connexion/verification/", {"code": code_at(key)})
    claims = id_token_claims(client, flow)
    assert claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["acr"] == ACR_MFA


def test_the_discovery_document_lists_the_acr_values(client):
    document = client.get("/o/.well-known/openid-configuration").json()
    assert document["acr_values_supported"] == [ACR_PASSWORD, ACR_MFA]
    assert "login" in document["prompt_values_supported"]


def test_acr_values_mfa_leads_a_person_without_a_factor_to_enrol(client, flow):
    user = UserFactory()
    password_step(client, user)
    url = flow.authorize_url(acr_values=ACR_MFA)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(
        "/mon-compte/double-authentification/?next=%2Fo%2Fauthorize%2F"
    )
    # Enrolled (which checks the new app): back to the authorization, now satisfied.
    with_totp(user)
    response = client.get(url)
    assert response["Location"].startswith("/mon-compte/verification/?next=")
    key = user.totpdevice_set.get().bin_key.hex()
    back = client.post(response["Location"], {"code": code_at(key)})
    assert back["Location"] == url
    claims = id_token_claims(client, flow, acr_values=ACR_MFA)
    assert claims["acr"] == ACR_MFA
    assert "otp" in claims["amr"]


def test_acr_values_mfa_asks_the_factor_of_a_person_signed_in_with_a_password(client, flow):
    user = UserFactory()
    password_step(client, user)  # no factor then: a password session
    with_totp(user)  # enrolled elsewhere since
    response = client.get(flow.authorize_url(acr_values=ACR_MFA))
    assert response["Location"].startswith("/mon-compte/verification/?next=")
    assert not AuditEvent.objects.filter(action="oidc.authorized").exists()


def test_acr_values_the_provider_cannot_satisfy_get_the_oidc_error_and_no_session(client, flow):
    response = client.get(flow.authorize_url(acr_values="urn:autre:niveau:eidas3"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == flow.redirect_uri
    assert query["error"] == ["unmet_authentication_requirements"]
    assert query["state"] == [flow.state]
    assert "code" not in query
    assert "_auth_user_id" not in client.session


def test_an_unknown_client_asking_an_unknown_acr_is_never_redirected(client, flow):
    response = client.get(flow.authorize_url(acr_values="urn:x", client_id="inconnu"))
    assert response.status_code in (400, 401)
    assert "Cette démarche n&#x27;est pas reconnue par le portail." in response.content.decode()


def test_prompt_login_asks_the_password_again(client, flow):
    user = UserFactory()
    password_step(client, user)
    response = client.get(flow.authorize_url(prompt="login"))
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/?next=/o/authorize/")
    assert "prompt" not in response["Location"]
    assert "_auth_user_id" not in client.session
    logout = AuditEvent.objects.get(action="account.logout")
    assert (logout.actor_id, logout.data) == (user.pk, {"reason": "prompt=login"})


def test_max_age_asks_again_a_login_too_old(client, flow):
    user = UserFactory()
    password_step(client, user)
    assert flow.get_code(client, max_age="300")  # signed in just now: no question
    session = client.session
    state = session["portail_auth_methods"]
    state["auth_at"] = time.time() - 400
    session["portail_auth_methods"] = state
    session.save()
    response = client.get(flow.authorize_url(max_age="300"))
    assert response["Location"].startswith("/connexion/?next=")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(action="account.logout").data == {"reason": "max_age"}
