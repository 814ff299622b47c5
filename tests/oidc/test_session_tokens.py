"""Ending a portal session ("Mes sessions et appareils") revokes the refresh tokens issued in it."""

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from portail.accounts.models import UserSession
from portail.oidc.models import SessionGrant
from tests.factories import UserFactory
from tests.oidc.helpers import Flow, userinfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return UserFactory(email="anne@exemple.fr")


def signed_in(person) -> Client:
    browser = Client()
    browser.force_login(person)
    return browser


def end(browser: Client, other: Client) -> None:
    row = UserSession.objects.get(session_id=other.session.session_key)
    response = browser.post("/mon-compte/sessions/fermer/", {"session": str(row.pk)})
    assert response.status_code == 302


def test_ending_a_session_revokes_the_refresh_tokens_issued_in_it(person, ceres_client):
    laptop, phone = signed_in(person), signed_in(person)
    demarche = Client()  # the démarche's server calls the token endpoint, not the browser
    flow_laptop = Flow(ceres_client.client_id, ceres_client.client_secret)
    flow_phone = Flow(ceres_client.client_id, ceres_client.client_secret)
    on_laptop = flow_laptop.token_request(demarche, flow_laptop.get_code(laptop)).json()
    on_phone = flow_phone.token_request(demarche, flow_phone.get_code(phone)).json()
    # A refresh keeps the family: the rotated token is revoked too.
    on_phone = flow_phone.refresh(demarche, on_phone["refresh_token"]).json()
    phone_session = UserSession.objects.get(session_id=phone.session.session_key)
    assert SessionGrant.objects.filter(user_session=phone_session).exclude(token_family=None)

    end(laptop, phone)

    refused = flow_phone.refresh(demarche, on_phone["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert userinfo(demarche, on_phone["access_token"]).status_code == 401
    assert not RefreshToken.objects.filter(user=person, revoked=None).exclude(
        token_family=SessionGrant.objects.get().token_family
    )
    # The laptop's session goes on, and so do the tokens issued in it.
    assert userinfo(demarche, on_laptop["access_token"]).status_code == 200
    assert flow_laptop.refresh(demarche, on_laptop["refresh_token"]).status_code == 200


def test_a_code_authorised_in_an_ended_session_can_no_longer_be_exchanged(person, ceres_client):
    laptop, phone = signed_in(person), signed_in(person)
    flow = Flow(ceres_client.client_id, ceres_client.client_secret)
    code = flow.get_code(phone)
    assert Grant.objects.count() == 1
    end(laptop, phone)
    assert not Grant.objects.exists()
    response = flow.token_request(Client(), code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_ending_every_other_session_revokes_each_ones_tokens(person, ceres_client):
    laptop, phone, tablet = signed_in(person), signed_in(person), signed_in(person)
    issued = []
    for browser in (phone, tablet):
        flow = Flow(ceres_client.client_id, ceres_client.client_secret)
        issued.append((flow, flow.token_request(Client(), flow.get_code(browser)).json()))
    laptop.post("/mon-compte/sessions/fermer-les-autres/")
    for flow, tokens in issued:
        assert flow.refresh(Client(), tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_another_persons_session_id_revokes_nothing(person, ceres_client):
    other = UserFactory(email="bruno@exemple.fr")
    intruder, phone = signed_in(other), signed_in(person)
    flow = Flow(ceres_client.client_id, ceres_client.client_secret)
    tokens = flow.token_request(Client(), flow.get_code(phone)).json()
    end(intruder, phone)  # refused by the flow
    assert phone.get("/mon-compte/").status_code == 200
    assert flow.refresh(Client(), tokens["refresh_token"]).status_code == 200
