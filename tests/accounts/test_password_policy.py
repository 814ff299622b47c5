"""Common French passwords refused (portail.accounts.password_policy), long passphrases accepted,
and the sign-up form saying why."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from portail.accounts.models import User
from portail.accounts.password_policy import FrenchCommonPasswordValidator, estimate, ranked_words
from tests.accounts.helpers import signup_data

pytestmark = pytest.mark.django_db

validator = FrenchCommonPasswordValidator()

FRENCH_COMMON = [
    "motdepasse123",  # the issue's: 13 characters, "password123"
    "Motdepasse123!",
    "m0td3p4ss3123",  # the same with digits for letters
    "azertyuiop123",
    "qsdfghjklm12",
    "jetaime123456",
    "marseille2024!",
    "soleil2024!!",
    "chouchou1234",
    "bonjour1234!",
    "nicolas1985!!",
    "loulou2015!!",
    "soleilsoleilsoleil",
    "password2024!",  # English ones too
    "a" * 40,
]

ACCEPTED = [
    "cheval correct agrafe batterie",
    "Une phrase de passe assez longue",
    "Les carottes sont cuites au bord du lac",
    "xK9#mP2$vL7q",
    "Tr0ub4dor&3xyz",
]


def test_the_lists_hold_at_least_ten_thousand_french_entries():
    words = ranked_words()
    assert len(words) > 50_000  # French words and names, Django's English passwords
    for french in ("bonjour", "soleil", "marseille", "chouchou", "nicolas", "passe", "mot"):
        assert french in words


@pytest.mark.parametrize("password", FRENCH_COMMON)
def test_french_common_passwords_are_refused(password):
    with pytest.raises(ValidationError) as refused:
        validator.validate(password)
    assert refused.value.code == "password_too_common"
    message = refused.value.messages[0]
    assert "très courants" in message
    assert "phrase de quatre ou cinq mots" in message


@pytest.mark.parametrize("password", ACCEPTED)
def test_long_passphrases_and_random_strings_are_accepted(password):
    validator.validate(password)


def test_the_message_names_what_it_found():
    with pytest.raises(ValidationError) as refused:
        validator.validate("motdepasse123")
    assert "« motdepasse »" in refused.value.messages[0]
    assert estimate("motdepasse123").pieces == ("motdepasse", "123")


def test_accents_and_capitals_do_not_hide_a_word():
    assert estimate("Été2024Marseille").guesses < 1e10
    assert estimate("ÉTÉ").guesses <= 2 * estimate("ete").guesses


def test_the_whole_chain_of_validators_refuses_it_with_the_portal_settings():
    with pytest.raises(ValidationError) as refused:
        validate_password("motdepasse123")
    assert "password_too_common" in [error.code for error in refused.value.error_list]
    validate_password("cheval correct agrafe batterie")


def test_passwords_of_128_characters_are_estimated():
    # The longest passwords allowed: the search stays bounded (pieces of at most 24 characters,
    # states above 10^20 dropped) and still finds what is common in them.
    assert estimate("x" * 127 + "é").guesses < 1e10  # one letter repeated
    assert estimate("soleil" * 21).pieces == ("soleil",)
    assert estimate("aZ9!" * 32).guesses < 1e10  # a short pattern repeated
    assert estimate("Une phrase " * 11).guesses < 1e10
    assert estimate("xK9#mP2$vL7q" * 10 + "Tr0ub4do").guesses >= 1e10


def test_signup_refuses_motdepasse123_says_why_and_keeps_what_was_typed(client):
    data = signup_data(
        client,
        account_type="particulier",
        siret="",
        password1="motdepasse123",
        password2="motdepasse123",
    )
    response = client.post("/inscription/", data)
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert "très courants" in page
    assert 'value="Alice"' in page
    assert "motdepasse123" not in page  # a password is never sent back
    assert not User.objects.exists()
