"""A démarche that requires a second factor of its gestionnaires (CERES in the catalogue): the
management page waits for an enrolled factor, each sensitive action for a check less than 15
minutes old (step-up). Server-side, per action, GET and POST; nobody else is concerned."""

import time
from urllib.parse import quote

import pytest
from django.urls import reverse

from portail.accounts.factor_models import Passkey
from portail.core.strong_auth import AUTH_KEY, STEP_UP_SECONDS
from portail.demarches.models import Demarche
from portail.habilitations import access_requests
from portail.habilitations.models import AccessRequest, Habilitation, Invitation
from tests.accounts.mfa_helpers import code_at, with_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(world):
    Demarche.objects.filter(pk=world.demarche.pk).update(requires_mfa=True)
    world.demarche.refresh_from_db()
    return world


def signed_in(client, user, *, factor_age: float | None):
    """The session of `user`, whose factor was checked `factor_age` seconds ago (None: never)."""
    client.force_login(user)
    session = client.session
    state = {"amr": ["pwd"]}
    if factor_age is not None:
        state = {"amr": ["pwd", "otp", "mfa"], "factor_at": time.time() - factor_age}
    session[AUTH_KEY] = state
    session.save()
    return client


def url(world, name, *args):
    return reverse(f"habilitations:{name}", args=[world.demarche.code, *args])


def invite_data(world):
    return {
        "user_query": "Dominique Demandeur",
        "user": str(world.colleague.public_id),
        "email": "",
        "role": world.centre_role.pk,
        "establishment": world.head.siret,
        "action": "continue",
    }


def test_the_catalogue_asks_it_for_ceres():
    assert Demarche.objects.get(code="ceres").requires_mfa


def test_a_gestionnaire_without_a_factor_is_led_to_enrol_first(strict, client):
    signed_in(client, strict.gestionnaire, factor_age=None)
    manage = url(strict, "manage")
    response = client.get(manage)
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"/mon-compte/double-authentification/?next={quote(manage, safe='')}"
    )
    page = client.get(response["Location"]).content.decode()
    assert "Un second moyen de vérification est demandé" in page
    # Every page of the gestionnaire's, the actions too: nothing happens before.
    centre = Habilitation.objects.get(user=strict.centre_user)
    for name, args in (("invite", ()), ("revoke", (centre.pk,)), ("change_role", (centre.pk,))):
        assert client.get(url(strict, name, *args)).status_code == 302
    assert client.post(url(strict, "revoke", centre.pk)).status_code == 302
    assert Habilitation.objects.active().filter(pk=centre.pk).exists()


def test_after_enrolment_the_page_opens_and_the_enrolment_counts_as_a_check(strict, client):
    signed_in(client, strict.gestionnaire, factor_age=None)
    with_totp(strict.gestionnaire)
    # Enrolled in another session: the management page opens, a sensitive action asks again.
    assert client.get(url(strict, "manage")).status_code == 200
    response = client.get(url(strict, "invite"))
    assert response["Location"].startswith("/mon-compte/verification/?next=")


def test_other_demarches_and_other_people_are_not_concerned(strict, client):
    signed_in(client, strict.other_demarche_gestionnaire, factor_age=None)
    assert client.get(reverse("habilitations:manage", args=["autre-demarche"])).status_code == 200
    # Not a gestionnaire of CERES: a 404 as before, never a hint that the page exists.
    signed_in(client, strict.centre_user, factor_age=None)
    assert client.get(url(strict, "manage")).status_code == 404


SENSITIVE = ["invite", "delegate", "revoke", "change_role"]


@pytest.mark.parametrize("action", SENSITIVE)
def test_a_sensitive_action_asks_for_the_factor_again_after_15_minutes(strict, client, action):
    with_totp(strict.gestionnaire)
    centre = Habilitation.objects.get(user=strict.centre_user)
    args = (centre.pk,) if action in ("revoke", "change_role") else ()
    target = url(strict, action, *args)
    signed_in(client, strict.gestionnaire, factor_age=STEP_UP_SECONDS + 5)
    assert client.get(url(strict, "manage")).status_code == 200  # reading needs no step-up
    step_up = f"/mon-compte/verification/?next={quote(target, safe='')}"
    assert client.get(target)["Location"] == step_up
    data = {
        "invite": invite_data(strict),
        "delegate": {"email": "tiers@cabinet.fr", "role": strict.centre_role.pk},
        "revoke": {},
        "change_role": {"role": strict.manager_role.pk},
    }[action]
    assert client.post(target, data)["Location"] == step_up
    assert not Invitation.objects.exists()
    centre.refresh_from_db()
    assert centre.role == strict.centre_role
    assert centre.revoked_at is None
    # Checked 14 minutes ago: no question.
    signed_in(client, strict.gestionnaire, factor_age=STEP_UP_SECONDS - 60)
    assert client.get(target).status_code == 200


def test_the_step_up_leads_back_to_the_invitation(strict, client):
    key, _codes = with_totp(strict.gestionnaire)
    signed_in(client, strict.gestionnaire, factor_age=STEP_UP_SECONDS + 5)
    step_up = client.get(url(strict, "invite"))["Location"]
    assert "Confirmez votre identité" in client.get(step_up).content.decode()
    back = client.post(step_up, {"code": code_at(key)})
    assert back["Location"] == url(strict, "invite")
    assert client.post(url(strict, "invite"), invite_data(strict)).status_code == 302
    assert Invitation.objects.get().invited_user == strict.colleague


def test_accepting_an_access_request_asks_for_the_factor_again(strict, client):
    with_totp(strict.gestionnaire)
    request = access_requests.request_access(
        user=strict.professional,
        demarche=strict.demarche,
        siret=strict.head.siret,
        role=strict.centre_role,
        message="",
    )
    accept = reverse("demarches:access_request_accept", args=[request.pk])
    signed_in(client, strict.gestionnaire, factor_age=STEP_UP_SECONDS + 5)
    response = client.post(accept, {"role": strict.centre_role.pk})
    manage = url(strict, "manage")
    assert response["Location"] == f"/mon-compte/verification/?next={quote(manage, safe='')}"
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.PENDING
    signed_in(client, strict.gestionnaire, factor_age=10)
    client.post(accept, {"role": strict.centre_role.pk})
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.ACCEPTED


def test_a_passkey_counts_as_a_factor(strict, client):
    Passkey.objects.create(
        user=strict.gestionnaire, name="Clé", credential_id="abc", public_key=b"k"
    )
    signed_in(client, strict.gestionnaire, factor_age=None)
    assert client.get(url(strict, "manage")).status_code == 200


def test_the_other_gestionnaire_pages_need_the_factor_too(strict, client):
    from portail.habilitations import flows

    sent = flows.invite(
        actor=strict.gestionnaire,
        demarche=strict.demarche,
        role=strict.centre_role,
        establishment=strict.head,
        email="x@cfi.fr",
    )
    request = access_requests.request_access(
        user=strict.professional,
        demarche=strict.demarche,
        siret=strict.head.siret,
        role=strict.centre_role,
        message="",
    )
    signed_in(client, strict.gestionnaire, factor_age=None)
    enrol = "/mon-compte/double-authentification/?next="
    assert client.get(url(strict, "autocomplete"), {"q": "Dom"})["Location"].startswith(enrol)
    for name in ("resend", "cancel"):
        assert client.post(url(strict, name, sent.invitation.pk))["Location"].startswith(enrol)
    refuse = reverse("demarches:access_request_refuse", args=[request.pk])
    assert client.post(refuse, {"reason": "Non"})["Location"].startswith(enrol)
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.PENDING
    assert Invitation.objects.get().cancelled_at is None
