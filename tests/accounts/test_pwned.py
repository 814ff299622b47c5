"""Pwned Passwords (portail.accounts.pwned) against a local server speaking its range API."""

import logging

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from portail.accounts.pwned import PwnedPasswordValidator, breach_count
from tests.accounts.fake_pwned import FakePwnedPasswords, sha1_hex
from tests.accounts.helpers import signup_data

pytestmark = pytest.mark.django_db

BREACHED = "Ma Tante Yvonne 1978 Lyon"  # passes the word lists, known to the fake service
FRESH = "cheval correct agrafe batterie"


@pytest.fixture
def pwned(settings):
    service = FakePwnedPasswords({BREACHED: 4211}).start()
    settings.PWNED_PASSWORDS_URL = service.url
    settings.PWNED_PASSWORDS_TIMEOUT = 0.5
    yield service
    service.stop()


def test_only_the_first_five_characters_of_the_sha1_leave_the_server(pwned):
    assert breach_count(BREACHED) == 4211
    assert breach_count(FRESH) == 0
    digest = sha1_hex(BREACHED)
    (path, headers), _ = pwned.requests
    assert path == f"/range/{digest[:5]}"
    assert headers["Add-Padding"] == "true"
    for sent in (path, *headers.values()):
        assert digest[5:] not in sent
        assert BREACHED not in sent


def test_a_padding_line_is_not_a_breach(pwned):
    # A padding suffix equal to ours would say count 0: it must read as "not breached".
    pwned.breached[sha1_hex(FRESH)] = 0
    assert breach_count(FRESH) == 0
    PwnedPasswordValidator().validate(FRESH)


def test_a_breached_password_is_refused_with_a_french_reason(pwned):
    with pytest.raises(ValidationError) as refused:
        validate_password(BREACHED)
    (error,) = refused.value.error_list
    assert error.code == "password_breached"
    assert "fuites de données" in error.message
    validate_password(FRESH)


def test_off_when_no_url_is_configured(settings, pwned):
    settings.PWNED_PASSWORDS_URL = ""
    assert breach_count(BREACHED) is None
    validate_password(BREACHED)
    assert pwned.requests == []


@pytest.mark.parametrize("failure", ["timeout", "error", "unreachable"])
def test_a_timeout_or_an_error_never_blocks_and_is_logged(pwned, settings, caplog, failure):
    if failure == "timeout":
        pwned.delay = 1.5
    elif failure == "error":
        pwned.status = 503
    else:
        settings.PWNED_PASSWORDS_URL = "http://127.0.0.1:9"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="portail.accounts.pwned"):
        PwnedPasswordValidator().validate(BREACHED)  # accepted, unchecked
    (line,) = caplog.records
    assert "Pwned Passwords unavailable" in line.getMessage()
    assert BREACHED not in line.getMessage()
    assert sha1_hex(BREACHED)[:5] not in line.getMessage()


def test_signup_with_a_breached_password_says_why(client, pwned):
    data = signup_data(
        client, account_type="particulier", siret="", password1=BREACHED, password2=BREACHED
    )
    response = client.post("/inscription/", data)
    assert response.status_code == 200
    assert "fuites de données publiées" in response.content.decode().replace("&#x27;", "'")


def test_signup_goes_through_when_the_service_is_down(client, pwned):
    pwned.status = 500
    data = signup_data(
        client, account_type="particulier", siret="", password1=BREACHED, password2=BREACHED
    )
    assert client.post("/inscription/", data).status_code == 302
