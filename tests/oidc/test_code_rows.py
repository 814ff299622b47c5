"""The authorization-code exchange in a few statements (portail.oidc.code_rows) writes the rows
DOT writes, field by field, on every database the suite runs on (SQLite, PostgreSQL)."""

import uuid
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

from portail.oidc import code_rows
from portail.oidc.models import UsedAuthorizationCode
from portail.oidc.tokens import checksum
from portail.oidc.validators import PortalOAuth2Validator
from tests.oidc.helpers import Flow

pytestmark = pytest.mark.django_db

# What differs between two exchanges by nature: keys, random values, moments.
DRAWN = {
    "id",
    "token",
    "token_checksum",
    "jti",
    "token_family",
    "code_hash",
    "access_token_checksum",
    "id_token_jti",
}
SAME_LINKS = {"user_id", "application_id", "source_refresh_token_id"}  # other links: below
MOMENTS = {"created", "updated", "expires", "used_at"}


def rows_of_one_exchange(client, flow: Flow) -> tuple[dict, dict]:
    """(the token response, {model name: [row as a dict of columns]}) of one exchange."""
    for model in (RefreshToken, AccessToken, IDToken, UsedAuthorizationCode):
        model.objects.all().delete()
    code = flow.get_code(client)
    assert Grant.objects.filter(code=code).exists()
    before = timezone.now()
    response = flow.token_request(client, code)
    after = timezone.now()
    assert response.status_code == 200, response.content
    assert not Grant.objects.filter(code=code).exists()  # spent
    rows = {
        model.__name__: list(model.objects.values())
        for model in (IDToken, AccessToken, RefreshToken, UsedAuthorizationCode)
    }
    for model_rows in rows.values():
        assert len(model_rows) == 1
        for moment in ("created", "updated", "used_at"):
            if moment in model_rows[0]:
                assert before <= model_rows[0][moment] <= after
    return response.json(), rows


def test_the_lean_exchange_writes_the_rows_dot_writes(client, user, flow, monkeypatch):
    lean_answer, lean = rows_of_one_exchange(client, flow)
    monkeypatch.setattr(PortalOAuth2Validator, "_lean_exchange_possible", lambda *a: False)
    dot_answer, dot = rows_of_one_exchange(client, flow)

    assert set(lean_answer) == set(dot_answer)
    for name, (dot_row,) in dot.items():
        (lean_row,) = lean[name]
        assert set(lean_row) == set(dot_row), name
        for column, value in dot_row.items():
            if column in MOMENTS:
                assert abs(lean_row[column] - value) < timedelta(seconds=30), (name, column)
            elif column not in DRAWN and (not column.endswith("_id") or column in SAME_LINKS):
                assert lean_row[column] == value, (name, column)
    # The links between them, as DOT makes them.
    id_token, access, refresh, used = (
        lean[n][0] for n in ("IDToken", "AccessToken", "RefreshToken", "UsedAuthorizationCode")
    )
    assert access["id_token_id"] == id_token["id"]
    assert refresh["access_token_id"] == access["id"]
    assert access["token"] == refresh["token"] == ""  # RFC 9700 storage: only checksums
    assert access["token_checksum"] == checksum(lean_answer["access_token"])
    assert refresh["token_checksum"] == checksum(lean_answer["refresh_token"])
    assert used["access_token_checksum"] == access["token_checksum"]
    assert used["token_family"] == refresh["token_family"]
    assert used["id_token_jti"] == id_token["jti"]
    assert used["user_id"] == user.pk
    assert used["replayed_at"] is None
    claims = jwt.decode(lean_answer["id_token"], options={"verify_signature": False})
    assert claims["jti"] == str(id_token["jti"])
    assert abs(claims["exp"] - id_token["expires"].timestamp()) <= 1


def test_the_new_rows_fill_every_column_of_the_models():
    # A column added by a DOT upgrade must be written here too (or have a database default).
    def columns(model):
        return {field.column for field in model._meta.concrete_fields if not field.primary_key}

    assert set(code_rows._ID_TOKEN) == columns(IDToken)
    assert set(code_rows._ACCESS_TOKEN) == columns(AccessToken)
    assert set(code_rows._REFRESH_TOKEN) == columns(RefreshToken)
    assert set(code_rows._USED_CODE) == columns(UsedAuthorizationCode)


def test_the_exchange_takes_few_statements(client, user, flow):
    code = flow.get_code(client)
    server = Client()  # the démarche's server: no session of the person
    with CaptureQueriesContext(connection) as captured:
        response = flow.token_request(server, code)
    assert response.status_code == 200
    control = ("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK")  # the test's own transaction decides
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(control)]
    # The grant with its user, how the person signed in (amr, acr) and the portal session it
    # came from (`sid`), in one statement (grant_rows); the habilitations claim (no habilitation
    # here: one query); the writes: one statement on PostgreSQL, seven in a transaction elsewhere
    # (with the grant go its authentication row and the session's link).
    expected = 3 if connection.vendor == "postgresql" else 9
    assert len(statements) == expected, "\n".join(s[:150] for s in statements)


def test_a_second_issue_of_the_same_code_writes_nothing(client, user, flow, ceres_client):
    code = flow.get_code(client)
    grant = Grant.objects.get(code=code)
    issued = code_rows.Issued(
        grant_id=grant.pk,
        user_id=user.pk,
        application_id=grant.application_id,
        code_hash="a" * 64,
        jti=uuid.uuid4(),
        id_token_expires=timezone.now() + timedelta(minutes=5),
        scope=grant.scope,
        access_token="access-1",
        refresh_token="refresh-1",
        expires=timezone.now() + timedelta(minutes=5),
        resource=[],
    )
    assert code_rows.issue(issued) is True
    again = code_rows.Issued(**{**issued.__dict__, "jti": uuid.uuid4(), "access_token": "a-2"})
    assert code_rows.issue(again) is False
    assert AccessToken.objects.count() == IDToken.objects.count() == 1
    assert RefreshToken.objects.count() == UsedAuthorizationCode.objects.count() == 1
    assert AccessToken.objects.get().token_checksum == checksum("access-1")
