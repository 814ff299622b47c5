"""`last_login` written at login by a prepared statement (portail.accounts.last_login), in the
place of Django's receiver: the same value on the account and in its row."""

import pytest
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone

from portail.accounts import last_login
from portail.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_receiver_takes_django_s_place():
    receivers = list(user_logged_in._live_receivers(User)[0])
    assert last_login.write_at_login in receivers
    assert update_last_login not in receivers


def test_a_login_writes_last_login():
    user = UserFactory(email="nina@banc.fr", last_login=None)
    before = timezone.now()
    response = Client().post("/", {"email": "nina@banc.fr", "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None
    assert before <= user.last_login <= timezone.now()


def test_the_account_and_its_row_agree():
    user = UserFactory()
    last_login.write_at_login(User, user)
    assert User.objects.get(pk=user.pk).last_login == user.last_login


def test_a_gone_row_raises_as_django_does():
    user = UserFactory()
    User.objects.filter(pk=user.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"), transaction.atomic():
        last_login.write_at_login(User, user)
