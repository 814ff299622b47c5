"""The authorization's writes in a few statements (portail.oidc.authorization_rows) are the rows
DOT and the validator write, field by field, on every database the suite runs on."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import Grant

from portail.accounts.models import UserSession
from portail.core.secrets import keyed_hash
from portail.oidc import authorization_rows
from portail.oidc.models import GrantAuthentication, SessionGrant
from portail.oidc.validators import CODE_PURPOSE, PortalOAuth2Validator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DRAWN = {"id", "code", "code_hash", "grant_id", "code_challenge", "nonce"}
MOMENTS = {"created", "updated", "expires", "created_at"}


def rows_of_one_authorization(client, flow) -> dict[str, dict]:
    """{model name: its one row as a dict of columns} of one authorization."""
    for model in (Grant, GrantAuthentication, SessionGrant):
        model.objects.all().delete()
    before = timezone.now()
    code = flow.get_code(client)
    after = timezone.now()
    rows = {
        model.__name__: list(model.objects.values())
        for model in (Grant, GrantAuthentication, SessionGrant)
    }
    for model_rows in rows.values():
        assert len(model_rows) == 1
    grant, signed_in, session = (
        rows[n][0] for n in ("Grant", "GrantAuthentication", "SessionGrant")
    )
    assert grant["code"] == code
    assert before <= grant["created"] <= after
    assert signed_in["grant_id"] == session["grant_id"] == grant["id"]
    assert session["code_hash"] == keyed_hash(code, CODE_PURPOSE)
    return rows


def test_the_lean_authorization_writes_the_rows_dot_writes(client, user, flow, monkeypatch):
    lean = rows_of_one_authorization(client, flow)
    monkeypatch.setattr(PortalOAuth2Validator, "_lean_authorization_possible", lambda *a: False)
    dot = rows_of_one_authorization(client, flow)

    for name, (dot_row,) in dot.items():
        (lean_row,) = lean[name]
        assert set(lean_row) == set(dot_row), name
        for column, value in dot_row.items():
            if column in MOMENTS:
                assert abs(lean_row[column] - value) < timedelta(seconds=30), (name, column)
            elif column not in DRAWN:
                assert lean_row[column] == value, (name, column)
    assert lean["Grant"][0]["code_challenge_method"] == "S256"
    assert lean["GrantAuthentication"][0]["amr"] == ["pwd"]


def test_the_new_rows_fill_every_column_of_the_models():
    # A column added by a DOT upgrade must be written here too (or have a database default).
    def columns(model):
        return {field.column for field in model._meta.concrete_fields if not field.primary_key}

    assert set(authorization_rows._GRANT) == columns(Grant)
    assert set(authorization_rows._AUTHENTICATION) == columns(GrantAuthentication) | {"grant_id"}
    assert set(authorization_rows._SESSION_GRANT) == columns(SessionGrant)


def test_another_persons_session_is_not_linked(user, ceres_client):
    someone = Client()
    someone.force_login(UserFactory())
    theirs = UserSession.objects.exclude(user=user).get()
    authorized = authorization_rows.Authorized(
        user_id=user.pk,
        application_id=ceres_client.application.pk,
        code="a-code",
        code_hash=keyed_hash("a-code", CODE_PURPOSE),
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri="https://ceres.example/cb",
        scope="openid",
        code_challenge="c",
        code_challenge_method="S256",
        nonce="",
        claims="{}",
        amr=["pwd"],
        acr="urn:portail:acr:pwd",
        auth_time=None,
        user_session_id=theirs.pk,
    )
    authorization_rows.record(authorized)
    assert Grant.objects.filter(code="a-code", user=user).exists()
    assert GrantAuthentication.objects.filter(grant__code="a-code").exists()
    assert not SessionGrant.objects.exists()


def test_the_authorization_takes_few_statements(client, user, flow):
    flow.get_code(client)  # the client is read once, then kept (portail.oidc.client_cache)
    with CaptureQueriesContext(connection) as captured:
        flow.get_code(client)
    control = ("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK")  # the test's own transaction decides
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]
    # The session with its user (portail.accounts.session_user), then the writes: one statement
    # on PostgreSQL, three elsewhere (7 through the ORM). DOT's view read the client again (one
    # more): a trusted client's authorization is validated once (views.AuthorizationView).
    expected = 2 if connection.vendor == "postgresql" else 4
    assert len(statements) == expected, "\n".join(s[:150] for s in statements)
