"""Activation codes: made, normalised, issued (revoking the previous one) and read back.

A code is 12 symbols drawn with `secrets` from a 32-symbol alphabet that leaves out the
look-alikes 0/O and 1/I: 12 × 5 = 60 random bits. It is printed in three groups of four
(`K7QM-3XRT-W9PD`) and typed in any case, with or without dashes or spaces. Only its keyed hash
(`portail.core.secrets.keyed_hash`, purpose "activation-code") is stored: the clear code exists
in the letter and in the return value of `issue_activation_code`, nowhere else.
"""

import math
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from stdnum.fr import siret as siret_validator

from portail.audit.journal import record
from portail.companies.models import Establishment
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal
from portail.core.secrets import keyed_hash
from portail.demarches.models import ActivationCode, Demarche

if TYPE_CHECKING:
    from portail.accounts.models import User

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: no 0, O, 1, I
# The look-alikes left out. Both sides of each pair are out (0 and O, 1 and I), so a typed one has
# no single symbol of the alphabet it could stand for: it is pointed out, never guessed.
LEFT_OUT = "01IO"
CODE_LENGTH = 12
GROUP_SIZE = 4
ENTROPY_BITS = CODE_LENGTH * math.log2(len(ALPHABET))  # 60.0
HASH_PURPOSE = "activation-code"
DEFAULT_VALIDITY_DAYS = 183  # about six months

# Characters a person may type between groups, or by mistake around the code.
_SEPARATORS = str.maketrans("", "", " -‐‑‒–—._\t\n\r\u00a0\u202f")


def generate_code() -> str:
    """A fresh code, grouped for print: `K7QM-3XRT-W9PD`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(normalized: str) -> str:
    """`K7QM3XRTW9PD` → `K7QM-3XRT-W9PD`."""
    return "-".join(normalized[i : i + GROUP_SIZE] for i in range(0, len(normalized), GROUP_SIZE))


def normalize_code(typed: str) -> str:
    """What the person typed, in the stored form: upper case, no separators or spaces.

    `k7qm 3xrt-w9pd`, `K7QM3XRTW9PD` and `K7QM-3XRT-W9PD` all give `K7QM3XRTW9PD`. Nothing else is
    corrected: a string that is not a well-formed code simply will not match any hash.
    """
    return (typed or "").translate(_SEPARATORS).upper()


def is_well_formed(normalized: str) -> bool:
    return len(normalized) == CODE_LENGTH and all(ch in ALPHABET for ch in normalized)


def never_in_a_code(typed: str) -> list[str]:
    """The left-out look-alikes (0, 1, I, O) in what the person typed, each once, in that order."""
    normalized = normalize_code(typed)
    return [ch for ch in LEFT_OUT if ch in normalized]


def hash_code(typed: str) -> str:
    """The keyed hash under which a code (as typed, in any form) is stored."""
    return keyed_hash(normalize_code(typed), HASH_PURPOSE)


def validity() -> timedelta:
    return timedelta(days=getattr(settings, "ACTIVATION_CODE_VALIDITY_DAYS", DEFAULT_VALIDITY_DAYS))


class CodeRefused(Refusal, ValueError):  # noqa: N818 -- a refusal, not an error of the program
    """No code may be issued for this SIRET or this démarche (also a `ValueError`, as before)."""


def issue_activation_code(
    *,
    actor: "User | None",
    demarche: Demarche,
    siret: str,
    establishment: Establishment | None = None,
    context: Context = SYSTEM,
) -> tuple[ActivationCode, str]:
    """Issue a code for (démarche, SIRET). Returns the stored row and the CLEAR code.

    The clear code is returned once, for the letter or the operator; it is never stored or
    journaled. An unused code still valid for the same (démarche, SIRET) is revoked.
    """
    siret = "".join((siret or "").split())
    if not siret_validator.is_valid(siret):
        raise CodeRefused("SIRET invalide", field="siret")
    if not demarche.accepts_activation_codes:
        raise CodeRefused(f"La démarche {demarche.code} n'accepte pas de code d'activation")
    if establishment is None:
        establishment = Establishment.objects.filter(siret=siret).first()
    elif establishment.siret != siret:  # the caller's mistake, not a person's: a bug
        raise ValueError("L'établissement ne correspond pas au SIRET")

    now = timezone.now()
    with transaction.atomic():
        previous = list(
            ActivationCode.objects.select_for_update()
            .filter(demarche=demarche, siret=siret, used_at__isnull=True, revoked_at__isnull=True)
            .order_by("pk")
        )
        for old in previous:
            old.revoked_at = now
            old.revoked_reason = "Remplacé par un nouveau code"
            old.save(update_fields=["revoked_at", "revoked_reason"])
        code = generate_code()
        row = ActivationCode.objects.create(
            demarche=demarche,
            siret=siret,
            establishment=establishment,
            code_hash=hash_code(code),
            issued_by=actor if getattr(actor, "is_authenticated", False) else None,
            issued_at=now,
            expires_at=now + validity(),
        )
        record(
            "activation_code.issued",
            actor=actor,
            target=row,
            demarche=demarche,
            establishment=establishment,
            context=context,
            data={
                "siret": siret,
                "expires_at": row.expires_at.isoformat(),
                "revoked_previous": [old.pk for old in previous],
            },
        )
    return row, code
