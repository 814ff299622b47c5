"""Agents' sign-in: password then TOTP (enrolled at first login), replay refused, rate-limited;
agents' pages are 404 to everybody else."""

import base64
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.audit.models import AuditEvent
from portail.backoffice.models import AgentProfile
from portail.habilitations.grants import revoke_habilitation
from portail.oidc.clients import set_webhook
from portail.oidc.models import WebhookSubscription
from portail.oidc.webhooks import deliver_webhooks
from tests.backoffice.conftest import login_agent
from tests.backoffice.factories import AgentFactory, CentreFactory, current_code
from tests.factories import PASSWORD, HabilitationFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("backoffice:login")
OTP = reverse("backoffice:otp")
ENROL = reverse("backoffice:enrol")
HOME = reverse("backoffice:home")


def password_step(client, email, password=PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password})


def is_agent_session(client) -> bool:
    return client.get(HOME).status_code == 200


def test_password_then_totp_logs_the_agent_in(client, pdl_agent):
    response = password_step(client, pdl_agent.user.email)
    assert response.status_code == 302
    assert response.url == OTP
    assert not is_agent_session(client)  # the password alone opens nothing
    device = TOTPDevice.objects.get(user=pdl_agent.user)
    response = client.post(OTP, {"code": current_code(device)})
    assert response.status_code == 302
    assert response.url == HOME
    assert is_agent_session(client)
    assert AuditEvent.objects.filter(action="backoffice.agent.login", actor=pdl_agent.user).exists()


def test_wrong_password_and_portal_user_get_the_same_answer(client, pdl_agent):
    wrong = password_step(client, pdl_agent.user.email, "pas le bon mot de passe")
    portal_user = UserFactory()
    not_agent = password_step(client, portal_user.email)
    for response in (wrong, not_agent):
        assert response.status_code == 200
        assert "Adresse électronique ou mot de passe incorrect." in response.content.decode()
    assert client.get(OTP).status_code == 302  # no pending agent in the session


def test_wrong_code_is_refused(client, pdl_agent):
    password_step(client, pdl_agent.user.email)
    device = TOTPDevice.objects.get(user=pdl_agent.user)
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"
    response = client.post(OTP, {"code": wrong})
    assert response.status_code == 200
    assert "n’est pas valide ou a déjà été utilisé" in response.content.decode()
    assert not is_agent_session(client)


def test_a_replayed_code_is_refused(client, pdl_agent):
    device = TOTPDevice.objects.get(user=pdl_agent.user)
    code = current_code(device)
    password_step(client, pdl_agent.user.email)
    assert client.post(OTP, {"code": code}).status_code == 302
    client.post(reverse("accounts:logout"))
    password_step(client, pdl_agent.user.email)
    response = client.post(OTP, {"code": code})
    assert response.status_code == 200
    assert "déjà été utilisé" in response.content.decode()
    assert not is_agent_session(client)


def test_codes_are_rate_limited(limits_store, client, pdl_agent):
    password_step(client, pdl_agent.user.email)
    for _ in range(5):
        response = client.post(OTP, {"code": "000000"})
    assert "Trop de tentatives" in response.content.decode()
    # Even the right code waits now.
    device = TOTPDevice.objects.get(user=pdl_agent.user)
    response = client.post(OTP, {"code": current_code(device)})
    assert "Trop de tentatives" in response.content.decode()
    assert not is_agent_session(client)


def test_passwords_are_rate_limited(limits_store, client, pdl_agent):
    for _ in range(5):
        response = password_step(client, pdl_agent.user.email, "mauvais mot de passe")
    assert "Trop de tentatives" in response.content.decode()
    response = password_step(client, pdl_agent.user.email)
    assert "Trop de tentatives" in response.content.decode()


def test_first_login_enrols_an_authenticator_with_a_qr_code_and_the_secret(client, regions, ceres):
    agent = AgentFactory(regions=["11"], totp=False)
    response = password_step(client, agent.user.email)
    assert response.url == OTP
    response = client.get(OTP)
    assert response.url == ENROL
    page = client.get(ENROL)
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', html).group(1)
    assert page["Cache-Control"] == "no-store"
    # The secret shown is the device's: a code computed from it is accepted.
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    code = f"{TOTP(key).token():06d}"
    response = client.post(ENROL, {"code": code})
    assert response.status_code == 302
    assert response.url == HOME
    assert TOTPDevice.objects.get(user=agent.user).confirmed
    assert is_agent_session(client)
    # From now on the login asks for the code and never shows the secret again.
    client.post(reverse("accounts:logout"))
    password_step(client, agent.user.email)
    assert client.get(ENROL).url == OTP


def test_enrolment_page_needs_the_password_step(client, regions):
    assert client.get(ENROL).status_code == 302
    assert client.get(OTP).status_code == 302


AGENT_GET_URLS = [
    ("backoffice:home", {}),
    ("backoffice:centres", {}),
    ("backoffice:centres_csv", {}),
    ("backoffice:centre_create", {}),
    ("backoffice:import", {}),
    ("backoffice:letters", {}),
    ("backoffice:followup", {}),
    ("backoffice:regions_csv", {}),
    ("backoffice:journal", {}),
    ("backoffice:journal_csv", {}),
    ("backoffice:webhooks", {}),
    ("backoffice:support", {}),
]
AGENT_OBJECT_URLS = [
    ("backoffice:centre", "get"),
    ("backoffice:centre_edit", "get"),
    ("backoffice:centre_close", "get"),
    ("backoffice:centre_letter", "post"),
    ("backoffice:site_add", "post"),
]


@pytest.mark.parametrize("kind", ["anonymous", "portal_user", "agent_without_otp"])
def test_agents_pages_are_404_to_everybody_else(client, kind, pdl_agent):
    centre = CentreFactory()
    if kind == "portal_user":
        client.force_login(UserFactory())
    elif kind == "agent_without_otp":
        client.force_login(pdl_agent.user)  # password only, no verified device in the session
    for name, kwargs in AGENT_GET_URLS:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    for name, method in AGENT_OBJECT_URLS:
        url = reverse(name, kwargs={"pk": centre.pk})
        assert getattr(client, method)(url).status_code == 404, name
    user = HabilitationFactory().user
    for name in ("backoffice:support_account",):
        assert client.get(reverse(name, kwargs={"public_id": user.public_id})).status_code == 404
    assert AgentProfile.objects.count() == 1


def test_the_same_pages_open_for_a_verified_agent(client, pdl_agent):
    login_agent(client, pdl_agent)
    centre = CentreFactory()
    for name, kwargs in AGENT_GET_URLS:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 200, name
    for name in ("backoffice:centre", "backoffice:centre_edit", "backoffice:centre_close"):
        assert client.get(reverse(name, kwargs={"pk": centre.pk})).status_code == 200, name


def test_an_inactive_agent_sees_404(client, pdl_agent):
    login_agent(client, pdl_agent)
    pdl_agent.user.is_active = False
    pdl_agent.user.save()
    assert client.get(HOME).status_code == 404


def test_create_agent_command_creates_the_first_agent_with_a_one_time_password(client, regions):
    out = StringIO()
    call_command(
        "create_agent",
        "Premiere.Agente@dreets.gouv.fr",
        "--region",
        "52",
        "--region",
        "44",
        stdout=out,
    )
    profile = AgentProfile.objects.get(user__email="premiere.agente@dreets.gouv.fr")
    assert sorted(profile.regions.values_list("code", flat=True)) == ["44", "52"]
    assert not profile.is_national
    password = re.search(r"une seule fois\) : (\S+)", out.getvalue()).group(1)
    response = password_step(client, "premiere.agente@dreets.gouv.fr", password)
    assert response.url == OTP
    assert client.get(OTP).url == ENROL


def test_create_agent_command_national_and_errors(regions):
    out = StringIO()
    call_command(
        "create_agent",
        "national@dreets.gouv.fr",
        "--national",
        "--password",
        "Un mot de passe long 2026",
        stdout=out,
    )
    assert AgentProfile.objects.get(user__email="national@dreets.gouv.fr").is_national
    assert "Mot de passe" not in out.getvalue()
    with pytest.raises(CommandError, match="inconnue"):
        call_command("create_agent", "x@dreets.gouv.fr", "--region", "99", stdout=StringIO())
    with pytest.raises(CommandError, match="au moins une"):
        call_command("create_agent", "x@dreets.gouv.fr", stdout=StringIO())


def test_agent_totp_code_command_is_for_the_demo_agent_only(regions, ceres):
    from portail.backoffice import demo

    demo.load()
    out = StringIO()
    call_command("agent_totp_code", stdout=out)
    device = TOTPDevice.objects.get(user__email=demo.DEMO_AGENT_EMAIL)
    assert out.getvalue().strip() == current_code(device)
    with pytest.raises(CommandError):
        call_command("agent_totp_code", "someone@else.fr", stdout=StringIO())


def test_while_redis_is_down_no_agent_password_or_code_is_checked(client, pdl_agent, settings):
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = password_step(client, pdl_agent.user.email)
    assert "Le service est momentanément indisponible" in response.content.decode()
    assert not is_agent_session(client)
    assert OTP not in response.get("Location", "")


def test_the_feed_delivery_page_shows_backlog_and_failures(client, pdl_agent, ceres):
    """Every verified agent (regional or national) sees where each démarche's push stands."""
    set_webhook(actor=None, demarche=ceres, url="http://127.0.0.1:9/injoignable/")
    habilitation = HabilitationFactory(role=ceres.roles.first())
    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=habilitation)
    deliver_webhooks()  # port 9 (discard): the connection is refused
    login_agent(client, pdl_agent)
    page = client.get(reverse("backoffice:webhooks")).content.decode()
    assert "Flux des habilitations" in page
    assert "http://127.0.0.1:9/injoignable/" in page
    assert "1 événement" in page
    assert "ceres:1 : ConnectionError" in page
    assert WebhookSubscription.objects.get().failures == 1
