"""The session and its account in one statement (portail.accounts.session_user): the same
account, field by field, as the ORM reads; the same checks as Django's `get_user`."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portail.accounts import session_user
from portail.accounts.models import User, UserSession
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    response = client.post("/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def statements_of(client: Client, path: str = "/mon-compte/") -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return response.status_code, [q["sql"] for q in captured.captured_queries]


def test_the_account_read_with_the_session_is_the_orms_field_by_field():
    user = UserFactory(first_name="Éva", last_name="Lecture")
    client = signed_in(user)
    key = client.cookies["sessionid"].value
    found = session_user.read(key)
    assert found is not None
    _data, account = found
    assert account is not None
    orm = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        read, expected = getattr(account, field.attname), getattr(orm, field.attname)
        assert (type(read), read) == (type(expected), expected), field.name
    assert account._state.adding is False
    assert account._state.db == orm._state.db


def test_a_signed_in_page_reads_session_and_account_in_one_statement():
    client = signed_in(UserFactory())
    status, sql = statements_of(client)
    assert status == 200
    assert len(sql) == 1, sql


def test_a_password_changed_elsewhere_signs_the_session_out():
    user = UserFactory()
    client = signed_in(user)
    user.set_password("Une autre phrase de passe 2026")
    user.save()
    status, _sql = statements_of(client)
    assert status == 302  # to the login page: the session's hash no longer matches
    assert client.get("/mon-compte/").status_code == 302


def test_a_deactivated_account_is_signed_out():
    user = UserFactory()
    client = signed_in(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    status, _sql = statements_of(client)
    assert status == 302


def test_a_session_without_its_index_row_reads_the_account_as_django_does():
    user = UserFactory()
    client = signed_in(user)
    UserSession.objects.filter(user=user).delete()
    status, sql = statements_of(client)
    assert status == 200
    assert len(sql) == 2, sql  # the session, then the account


def test_an_expired_or_unknown_session_is_anonymous():
    client = Client()
    client.cookies["sessionid"] = "inconnue0123456789abcdefghijklmnop"
    assert session_user.read("inconnue0123456789abcdefghijklmnop") is None
    assert client.get("/mon-compte/").status_code == 302
