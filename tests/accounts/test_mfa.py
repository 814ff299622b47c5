"""Second factor of portal accounts: TOTP enrolment from "Mon compte", recovery codes, the
login's second step, removal of the last factor, the journal, and every bad input."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from portail.accounts import mfa, mfa_views
from portail.accounts.factor_models import Passkey, RecoveryCode
from portail.accounts.models import User
from portail.audit.models import AuditEvent
from portail.core import strong_auth
from tests.accounts.mfa_helpers import code_at, key_from_secret, password_step, with_totp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def actions(user):
    return list(
        AuditEvent.objects.filter(target_id=str(user.pk), action__startswith="account.mfa")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_enrol_a_totp_app_from_mon_compte(client):
    user = UserFactory()
    client.force_login(user)
    assert "Double authentification" in client.get("/mon-compte/").content.decode()
    page = client.get("/mon-compte/double-authentification/application/").content.decode()
    assert "data:image/svg+xml;base64," in page  # the QR code
    secret = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page).group(1)
    key = key_from_secret(secret)
    # A wrong code: refused, nothing saved, the same key still on the page.
    response = client.post(
        "/mon-compte/double-authentification/application/",
        {"name": "Mon téléphone", "code": "000000" if code_at(key) != "000000" else "111111"},
    )
    assert "Code incorrect" in response.content.decode()
    assert secret in response.content.decode()
    assert not mfa.has_second_factor(user)
    response = client.post(
        "/mon-compte/double-authentification/application/",
        {"name": "Mon téléphone", "code": code_at(key)},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Mon téléphone" in page
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", page)
    assert len(codes) == 10
    # Shown once: the next visit lists the count only; the database holds hashes only.
    again = client.get("/mon-compte/double-authentification/").content.decode()
    assert codes[0] not in again
    assert "Il vous reste 10 codes de secours" in again
    assert not RecoveryCode.objects.filter(code_hash__in=codes).exists()
    assert actions(user) == [
        "account.mfa.enrolment_failed",
        "account.mfa.enrolled",
        "account.mfa.recovery_codes_drawn",
    ]


def test_login_asks_for_the_code_after_the_password(client):
    user = UserFactory()
    key, _codes = with_totp(user)
    response = password_step(client, user, next="/mon-compte/")
    assert response.status_code == 302
    assert response["Location"] == "/connexion/verification/?next=%2Fmon-compte%2F"
    assert "_auth_user_id" not in client.session  # not logged in before the factor
    assert client.get("/mon-compte/").status_code == 302
    response = client.post("/connexion/verification/", {"code": code_at(key)})
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[strong_auth.AUTH_KEY]["amr"] == ["pwd", "otp", "mfa"]
    assert "account.mfa.used" in actions(user)


def test_the_same_code_is_never_accepted_twice(client):
    user = UserFactory()
    key, _codes = with_totp(user)
    code = code_at(key)
    password_step(client, user)
    assert client.post("/connexion/verification/", {"code": code}).status_code == 302
    other = type(client)()
    password_step(other, user)
    response = other.post("/connexion/verification/", {"code": code})
    assert response.status_code == 200
    assert "Code incorrect, expiré ou déjà utilisé" in response.content.decode()
    assert "_auth_user_id" not in other.session


def test_a_recovery_code_works_once(client):
    user = UserFactory()
    _key, codes = with_totp(user)
    password_step(client, user)
    assert client.post("/connexion/verification/", {"code": codes[3].lower()}).status_code == 302
    assert "account.mfa.recovery_code_used" in actions(user)
    other = type(client)()
    password_step(other, user)
    response = other.post("/connexion/verification/", {"code": codes[3]})
    assert response.status_code == 200
    assert "_auth_user_id" not in other.session


def test_wrong_codes_are_throttled_per_account_not_forever(client):
    user = UserFactory()
    key, _codes = with_totp(user)
    password_step(client, user)
    wrong = "123456" if code_at(key) != "123456" else "654321"
    for _ in range(5):
        client.post("/connexion/verification/", {"code": wrong})
    response = client.post("/connexion/verification/", {"code": code_at(key)})
    assert "Trop de tentatives. Réessayez dans 1 minute." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert actions(user).count("account.mfa.failed") == 5
    mfa_views.FACTOR_PER_ACCOUNT.reset(str(user.pk))  # the wait is over (never a lock)
    assert client.post("/connexion/verification/", {"code": code_at(key)}).status_code == 302


def test_the_second_step_expires(client, monkeypatch):
    user = UserFactory()
    key, _codes = with_totp(user)
    password_step(client, user)
    monkeypatch.setattr(mfa_views, "PENDING_SECONDS", -1)
    response = client.post("/connexion/verification/", {"code": code_at(key)})
    assert response.status_code == 302
    assert response["Location"] == "/connexion/"
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_never_reaches_the_second_step(client):
    user = UserFactory()
    with_totp(user)
    response = password_step(client, user, password="pas le bon mot de passe")
    assert response.status_code == 200
    assert client.get("/connexion/verification/").status_code == 302


def test_removing_the_last_factor_asks_for_it_first(client):
    user = UserFactory()
    key, codes = with_totp(user)
    device = mfa.factors_of(user).totp[0]
    client.force_login(user)
    url = f"/mon-compte/double-authentification/totp/{device.pk}/supprimer/"
    assert "dernier moyen de vérification" in client.get(url).content.decode()
    response = client.post(url, {"code": ""})
    assert response.status_code == 200
    assert mfa.has_second_factor(user)
    response = client.post(url, {"code": "999999" if code_at(key) != "999999" else "888888"})
    assert "Code incorrect" in response.content.decode()
    assert mfa.has_second_factor(user)
    assert client.post(url, {"code": codes[0]}).status_code == 302
    assert not mfa.has_second_factor(user)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert actions(user)[-1] == "account.mfa.removed"


def test_removing_one_of_two_factors_asks_nothing(client):
    user = UserFactory()
    with_totp(user, "Téléphone")
    with_totp(user, "Tablette")
    first = mfa.factors_of(user).totp[0]
    client.force_login(user)
    url = f"/mon-compte/double-authentification/totp/{first.pk}/supprimer/"
    assert client.post(url, {"code": ""}).status_code == 302
    assert [d.name for d in mfa.factors_of(user).totp] == ["Tablette"]


def test_nobody_removes_the_factor_of_another_account(client):
    owner = UserFactory()
    with_totp(owner)
    device = mfa.factors_of(owner).totp[0]
    client.force_login(UserFactory())
    url = f"/mon-compte/double-authentification/totp/{device.pk}/supprimer/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"code": ""}).status_code == 404
    assert mfa.has_second_factor(owner)


def test_new_recovery_codes_replace_the_old_ones(client):
    user = UserFactory()
    _key, codes = with_totp(user)
    client.force_login(user)
    response = client.post("/mon-compte/double-authentification/codes-de-secours/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    new = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", page)
    assert len(new) == 10
    assert not set(new) & set(codes)
    with pytest.raises(mfa.WrongCode):
        mfa.check_code(user, codes[0], purpose="login")
    assert mfa.check_code(user, new[0], purpose="login") == "otp"


def test_the_pages_need_a_login(client):
    for url in (
        "/mon-compte/double-authentification/",
        "/mon-compte/double-authentification/application/",
        "/mon-compte/verification/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")


def test_the_step_up_checks_the_factor_again(client):
    user = UserFactory()
    key, _codes = with_totp(user)
    client.force_login(user)
    response = client.post("/mon-compte/verification/?next=/mon-compte/", {"code": code_at(key)})
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    assert strong_auth.factor_checked_at(_request_with(client)) is not None
    assert AuditEvent.objects.filter(
        action="account.mfa.used", target_id=str(user.pk), data__purpose="step_up"
    ).exists()


def _request_with(client):
    class Request:
        session = client.session

    return Request()


@pytest.mark.django_db
def test_the_login_reads_whether_the_account_has_a_factor_with_the_account():
    user = UserFactory()

    def at_login() -> bool:
        read = User.objects.get_by_natural_key(user.email.upper())
        assert read.pk == user.pk
        return bool(read.second_factor_at_read)

    def asked() -> bool:
        return mfa.has_second_factor(User.objects.get(pk=user.pk))  # its own query

    assert at_login() is asked() is False
    device = TOTPDevice.objects.create(user=user, name="App", confirmed=False)
    assert at_login() is asked() is False  # not confirmed: no factor yet
    device.confirmed = True
    device.save()
    assert at_login() is asked() is True
    device.delete()
    Passkey.objects.create(user=user, name="Clé", credential_id="id", public_key=b"k")
    assert at_login() is asked() is True
