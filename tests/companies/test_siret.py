import pytest
from django.core.exceptions import ValidationError

from portail.companies.siret import (
    format_siret,
    is_valid_siren,
    is_valid_siret,
    normalize_siret,
    siret_error,
    validate_siret,
)
from tests.factories import make_siren, make_siret

pytestmark = pytest.mark.django_db  # the autouse cache fixture uses the database cache

VALID = make_siret(make_siren(4242), 17)


def test_normalize_strips_spaces_and_dots():
    spaced = f"{VALID[:3]} {VALID[3:6]}.{VALID[6:9]}\u00a0{VALID[9:]} "
    assert normalize_siret(spaced) == VALID
    assert normalize_siret(None) == ""


@pytest.mark.parametrize(
    "value",
    [
        VALID,
        "73282932000074",  # stdnum's documented example
        "35600000000048",  # La Poste's head office: Luhn-valid
        "35600000049837",  # a La Poste establishment: not Luhn, digit sum multiple of 5
    ],
)
def test_valid_sirets(value):
    assert is_valid_siret(value)
    assert siret_error(value) is None


def test_la_poste_exception_is_only_for_la_poste():
    # Same digit-sum rule outside SIREN 356000000 fails: only Luhn counts there.
    assert not is_valid_siret("35600000149837")
    assert not is_valid_siret("35600000049838")  # La Poste, digit sum not a multiple of 5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Le numéro SIRET doit comporter 14 chiffres."),
        (VALID[:13], "Le numéro SIRET doit comporter 14 chiffres."),
        (VALID + "0", "Le numéro SIRET doit comporter 14 chiffres."),
        ("1234567890123A", "Le numéro SIRET doit comporter 14 chiffres."),
        (VALID[:13] + str((int(VALID[13]) + 1) % 10), "Ce numéro SIRET n'est pas valide."),
    ],
)
def test_invalid_sirets_explain_why(value, message):
    assert not is_valid_siret(value)
    assert siret_error(value) == message
    with pytest.raises(ValidationError) as exc:
        validate_siret(value)
    assert exc.value.messages == [message]


def test_siren():
    siren = make_siren(99)
    assert is_valid_siren(siren)
    assert is_valid_siren(f"{siren[:3]} {siren[3:6]} {siren[6:]}")
    assert not is_valid_siren(siren[:8] + str((int(siren[8]) + 1) % 10))
    assert not is_valid_siren(siren + "1")
    assert is_valid_siren("356000000")


def test_format():
    assert format_siret("73282932000074") == "732 829 320 00074"
