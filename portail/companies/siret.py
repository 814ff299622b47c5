"""SIRET and SIREN numbers: normalisation and validation (python-stdnum, La Poste exception included).

A SIRET is 14 digits: the SIREN of the company (9 digits) and the NIC of the establishment (5).
Both pass the Luhn check, except the establishments of La Poste (SIREN 356 000 000), whose SIRET
digits only sum to a multiple of 5; python-stdnum knows that rule.
"""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from stdnum.exceptions import ValidationError
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

# What people type between groups of digits: spaces (also non-breaking ones), dots, hyphens.
_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]+")

MESSAGE_LENGTH = "Le numéro SIRET doit comporter 14 chiffres."
MESSAGE_CHECKSUM = "Ce numéro SIRET n'est pas valide."
MESSAGE_SIREN_LENGTH = "Le numéro SIREN doit comporter 9 chiffres."
MESSAGE_SIREN_CHECKSUM = "Ce numéro SIREN n'est pas valide."


def normalize_siret(value: object) -> str:
    """'123 456 789 00012' → '12345678900012'. Does not validate: see `is_valid_siret`."""
    return _SEPARATORS.sub("", str(value or "")).strip()


normalize_siren = normalize_siret


def is_valid_siret(value: object) -> bool:
    number = normalize_siret(value)
    return len(number) == 14 and number.isdigit() and stdnum_siret.is_valid(number)


def is_valid_siren(value: object) -> bool:
    number = normalize_siren(value)
    return len(number) == 9 and number.isdigit() and stdnum_siren.is_valid(number)


def siret_error(value: object) -> str | None:
    """The French message explaining why `value` is not a SIRET, or None when it is one."""
    number = normalize_siret(value)
    if len(number) != 14 or not number.isdigit():
        return MESSAGE_LENGTH
    try:
        stdnum_siret.validate(number)
    except ValidationError:
        return MESSAGE_CHECKSUM
    return None


def siren_error(value: object) -> str | None:
    number = normalize_siren(value)
    if len(number) != 9 or not number.isdigit():
        return MESSAGE_SIREN_LENGTH
    if not stdnum_siren.is_valid(number):
        return MESSAGE_SIREN_CHECKSUM
    return None


def validate_siret(value: object) -> None:
    """A Django field validator: raises ValidationError with the French message."""
    error = siret_error(value)
    if error:
        raise DjangoValidationError(error, code="invalid_siret")


def validate_siren(value: object) -> None:
    error = siren_error(value)
    if error:
        raise DjangoValidationError(error, code="invalid_siren")


def format_siret(value: object) -> str:
    """'12345678900012' → '123 456 789 00012' (as INSEE prints it)."""
    number = normalize_siret(value)
    if len(number) != 14:
        return number
    return f"{number[:3]} {number[3:6]} {number[6:9]} {number[9:]}"
