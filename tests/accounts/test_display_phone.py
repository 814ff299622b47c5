"""A stored number as "Mon compte" shows it: the short way for French numbers is phonenumbers'."""

import random

import phonenumbers
import pytest

from portail.accounts.forms import display_phone

pytestmark = pytest.mark.django_db  # the folder's fixtures


def _phonenumbers_way(stored: str) -> str:
    number = phonenumbers.parse(stored, "FR")
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 33
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def test_every_french_prefix_as_phonenumbers_writes_it():
    draw = random.Random(16)
    for first in range(1, 10):
        for second in range(100):
            for _ in range(3):
                stored = f"+33{first}{second:02d}{draw.randrange(10**6):06d}"
                assert display_phone(stored) == _phonenumbers_way(stored), stored


@pytest.mark.parametrize(
    "stored",
    [
        "+33612345678",
        "+33240000000",
        "+33800123456",
        "+3226123456",
        "+14155552671",
        "+262262123456",
    ],
)
def test_numbers_as_phonenumbers_writes_them(stored):
    assert display_phone(stored) == _phonenumbers_way(stored)


def test_a_value_it_cannot_read_is_shown_as_stored():
    assert display_phone("pas un numéro") == "pas un numéro"
    assert display_phone("+336123456789") == _phonenumbers_way("+336123456789")
