"""Registering a démarche as a client, and how its secret is stored (HMAC, not a password hash)."""

import io
import time

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from portail.audit.models import AuditEvent
from portail.core.context import Context
from portail.core.refusals import Refusal
from portail.demarches.models import Demarche
from portail.oidc import demo
from portail.oidc.clients import ClientRegistrationError, register_demarche_client

pytestmark = pytest.mark.django_db


def register(*args) -> tuple[str, str]:
    out = io.StringIO()
    call_command("register_demarche_client", *args, stdout=out)
    lines = dict(
        line.split("=", 1) for line in out.getvalue().splitlines() if line.startswith("client_")
    )
    return lines["client_id"], lines["client_secret"]


def test_command_creates_a_confidential_rs256_client_and_prints_the_secret_once(catalogue):
    client_id, secret = register(
        "ceres",
        "https://ceres.example/oidc/callback/",
        "--post-logout-uri",
        "https://ceres.example/deconnexion/terminee/",
    )
    app = Application.objects.get(client_id=client_id)
    assert app.client_type == Application.CLIENT_CONFIDENTIAL
    assert app.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert app.algorithm == Application.RS256_ALGORITHM
    assert app.skip_authorization is True
    assert app.redirect_uris == "https://ceres.example/oidc/callback/"
    assert app.post_logout_redirect_uris == "https://ceres.example/deconnexion/terminee/"
    assert Demarche.objects.get(code="ceres").oidc_client_id == client_id
    assert len(secret) >= 64
    assert secret not in app.client_secret
    assert app.client_secret.startswith("client_secret_hmac_sha256$")
    assert check_password(secret, app.client_secret)
    assert not check_password(secret + "x", app.client_secret)
    event = AuditEvent.objects.get(action="oidc.client_registered")
    assert secret not in str(event.data)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://ceres.example/cb/", "scheme"),
        ("/oidc/callback/", "scheme"),
        ("https://ceres.example/cb/#frag", "fragment"),
        ("https://*.example/cb/", "wildcard"),
    ],
)
def test_command_refuses_bad_redirect_uris(catalogue, uri, message):
    with pytest.raises(CommandError, match=message):
        register("ceres", uri)
    assert not Application.objects.exists()
    assert Demarche.objects.get(code="ceres").oidc_client_id == ""


def test_command_refuses_an_unknown_demarche(catalogue):
    with pytest.raises(CommandError, match="Unknown démarche"):
        register("inconnue", "https://x.example/cb/")


def test_command_keeps_the_existing_client_unless_replace(catalogue):
    first_id, _ = register("ceres", "https://ceres.example/cb/")
    with pytest.raises(CommandError, match="--replace"):
        register("ceres", "https://ceres.example/cb/")
    second_id, _ = register("ceres", "https://ceres.example/cb/", "--replace")
    assert second_id != first_id
    assert list(Application.objects.values_list("client_id", flat=True)) == [second_id]


def test_client_secret_check_is_fast_keyed_hmac(catalogue):
    _, secret = register("ceres", "https://ceres.example/cb/")
    stored = Application.objects.get().client_secret
    assert identify_hasher(stored).algorithm == "client_secret_hmac_sha256"
    start = time.perf_counter()
    for _ in range(200):
        assert check_password(secret, stored)
    assert (time.perf_counter() - start) / 200 < 0.002  # PBKDF2 or argon2 take 15-250 ms


def test_hmac_hasher_never_hashes_passwords():
    assert settings.PASSWORD_HASHERS[0] != "portail.oidc.hashers.ClientSecretHasher"
    assert settings.PASSWORD_HASHERS[-1] == "portail.oidc.hashers.ClientSecretHasher"


def test_demo_registers_ceres_idempotently(catalogue):
    lines = demo.load(io.StringIO())
    demo.load(io.StringIO())
    app = Application.objects.get()
    ceres = Demarche.objects.get(code="ceres")
    assert app.client_id == demo.CERES_DEMO_CLIENT_ID == ceres.oidc_client_id
    assert ceres.url == "http://127.0.0.1:8001/"
    assert check_password(demo.CERES_DEMO_CLIENT_SECRET, app.client_secret)
    assert app.redirect_uris == "http://127.0.0.1:8001/oidc/callback/"
    assert "http://127.0.0.1:8001/" in lines[0]


def test_a_replaced_client_stops_working_at_once_in_this_process(client, catalogue):
    from tests.factories import UserFactory
    from tests.oidc.helpers import Flow

    first_id, first_secret = register("ceres", "https://demarche.example/oidc/callback/")
    client.force_login(UserFactory())
    old = Flow(first_id, first_secret)
    tokens = old.tokens(client)  # the client is now in the in-memory cache
    second_id, second_secret = register(
        "ceres", "https://demarche.example/oidc/callback/", "--replace"
    )
    assert old.refresh(client, tokens["refresh_token"]).status_code == 401
    assert Flow(second_id, second_secret).tokens(client)["access_token"]


def test_the_flow_refuses_with_a_refusal_and_journals_its_context(catalogue):
    ceres = Demarche.objects.get(code="ceres")
    with pytest.raises(ClientRegistrationError) as refused:
        register_demarche_client(actor=None, demarche=ceres, redirect_uris=[])
    assert isinstance(refused.value, Refusal)
    assert refused.value.message == "At least one redirect URI is required."
    register_demarche_client(
        actor=None,
        demarche=ceres,
        redirect_uris=["https://ceres.example/cb/"],
        context=Context(ip="192.0.2.9", request_id="req-oidc-1"),
    )
    event = AuditEvent.objects.get(action="oidc.client_registered")
    assert (event.ip, event.request_id) == ("192.0.2.9", "req-oidc-1")
