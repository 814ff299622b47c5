"""The account a login names (`UserManager.get_by_natural_key`, what `authenticate()` reads),
read by a hand-written statement: the same account as the ORM's annotated query, field by field,
with the same second-factor answer, and the same refusals."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts.models import Passkey, User, _second_factor_sql
from tests.accounts.mfa_helpers import with_totp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fields(user: User) -> dict:
    values = {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}
    return values | {"second_factor_at_read": user.second_factor_at_read}


def orm(email: str) -> User:
    return User.objects.annotate(second_factor_at_read=_second_factor_sql()).get(
        email=User.objects.normalize_email(email)
    )


def test_the_account_is_the_orm_s_field_by_field_with_or_without_a_second_factor():
    plain = UserFactory(
        email="plain@banc.fr", phone="+33612345678", declared_siret="12345678900011"
    )
    app = UserFactory(email="app@banc.fr")
    with_totp(app)
    unconfirmed = UserFactory(email="pas-confirme@banc.fr")
    TOTPDevice.objects.create(user=unconfirmed, name="t", confirmed=False)
    key = UserFactory(email="cle@banc.fr", is_active=False)
    Passkey.objects.create(user=key, name="Clé", credential_id="id", public_key=b"k")
    expected = {"plain": False, "app": True, "pas-confirme": False, "cle": True}
    for user in (plain, app, unconfirmed, key):
        for typed in (user.email, f"  {user.email.upper()} "):
            read = User.objects.get_by_natural_key(typed)
            assert fields(read) == fields(orm(typed))
            assert read.second_factor_at_read is expected[user.email.split("@")[0]]
            assert type(read.pk) is type(user.pk)
            assert not read._state.adding
            assert read._state.db == "default"


def test_one_statement_and_an_unknown_address_refused_as_the_orm():
    UserFactory(email="nina@banc.fr")
    with CaptureQueriesContext(connection) as captured:
        User.objects.get_by_natural_key("nina@banc.fr")
    assert len(captured.captured_queries) == 1
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("personne@banc.fr")
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key(None)
