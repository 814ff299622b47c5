"""The code's grant read in one statement (portail.oidc.grant_rows) gives the instances the ORM
gives, value and type of every field, on every database the suite runs on."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import Grant

from portail.core.secrets import keyed_hash
from portail.oidc import grant_rows
from portail.oidc.models import GrantAuthentication, SessionGrant
from portail.oidc.validators import CODE_PURPOSE

pytestmark = pytest.mark.django_db


def assert_same_fields(found, expected) -> None:
    assert type(found) is type(expected)
    for field in type(expected)._meta.concrete_fields:
        ours, theirs = getattr(found, field.attname), getattr(expected, field.attname)
        assert ours == theirs, field.name
        assert type(ours) is type(theirs), field.name
    assert found._state.adding is False
    assert found._state.db == expected._state.db


def test_the_grant_its_user_authentication_and_session_as_the_orm_reads_them(client, user, flow):
    code = flow.get_code(client)
    code_hash = keyed_hash(code, CODE_PURPOSE)
    expected = Grant.objects.select_related("user").get(code=code)
    session = SessionGrant.objects.get(code_hash=code_hash)

    with CaptureQueriesContext(connection) as captured:
        found = grant_rows.find(code, code_hash)
        assert found is not None
        assert found.grant.user.email == user.email  # loaded with it
    assert len(captured.captured_queries) == 1

    assert_same_fields(found.grant, expected)
    assert_same_fields(found.grant.user, expected.user)
    assert_same_fields(found.authentication, GrantAuthentication.objects.get(grant=expected))
    assert found.authentication.amr == ["pwd"]
    assert found.user_session_id == session.user_session_id
    assert type(found.user_session_id) is type(session.user_session_id)


def test_a_grant_without_authentication_nor_session(user, ceres_client):
    grant = Grant.objects.create(
        user=user,
        application=ceres_client.application,
        code="a-code-made-here",
        expires=timezone.now() + timedelta(minutes=1),
        redirect_uri="https://ceres.example/cb",
        scope="openid",
    )
    found = grant_rows.find("a-code-made-here", keyed_hash("a-code-made-here", CODE_PURPOSE))
    assert found is not None
    assert found.grant.pk == grant.pk
    assert found.authentication is None
    assert found.user_session_id is None


def test_an_unknown_code_finds_nothing(user, ceres_client):
    assert grant_rows.find("no-such-code", keyed_hash("no-such-code", CODE_PURPOSE)) is None
