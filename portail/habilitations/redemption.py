"""Activation by SIRET + code ("SAISIR LE CODE D'ACTIVATION"): the code issued by the démarches
app (`portail.demarches.codes`) gives its first user the démarche's first-activator roles.

One function, `activate_with_code`: one transaction, the code's row locked, the audit event and
the email queued before it returns. Refusals are `Refusal`s whose `message` is for the person, in
French; every failed attempt is journaled (never with the code) and counted by the rate limits.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portail.audit.journal import record
from portail.companies.models import Establishment
from portail.core.context import SYSTEM, Context
from portail.core.ratelimit import attempt, format_wait
from portail.core.refusals import Refusal
from portail.demarches.codes import hash_code, is_well_formed, normalize_code
from portail.demarches.models import ActivationCode, Demarche
from portail.habilitations.admission import (
    CLOSED,
    ensure_professional,
    resolve_establishment,
    user_key,
)
from portail.habilitations.grants import grant_habilitation
from portail.habilitations.limits import activation_siret_limiter, activation_user_limiter
from portail.habilitations.models import Habilitation
from portail.notifications.emails import send_email

if TYPE_CHECKING:
    from portail.accounts.models import User

# One message for every wrong code: unknown, used, expired, revoked, or bound to another SIRET.
GENERIC_FAILURE = (
    "Le SIRET ou le code d'activation est incorrect, ou ce code n'est plus valable. "
    "Vérifiez votre saisie ; si le problème persiste, contactez le service en charge "
    "de la démarche."
)
BLOCKED = "Trop de tentatives infructueuses. Vous pourrez réessayer dans {wait}."
NOT_ACCEPTING_CODES = "Cette démarche ne s'active pas par code d'activation."


class ActivationRefusedError(Refusal):
    """A wrong code (unknown, used, expired, revoked, another SIRET): one message for all."""


@dataclass
class Activation:
    demarche: Demarche
    establishment: Establishment
    habilitations: list[Habilitation] = field(default_factory=list)


def _failed_activation(
    user: "User",
    demarche: Demarche,
    siret: str,
    reason: str,
    *,
    context: Context,
    code_row: ActivationCode | None = None,
) -> ActivationRefusedError:
    """Journal the failed attempt (its own transaction), return the error to raise."""
    with transaction.atomic():
        record(
            "demarche.activation_failed",
            actor=user,
            target=code_row,
            demarche=demarche,
            establishment=code_row.establishment if code_row is not None else None,
            context=context,
            data={"siret": siret, "reason": reason},
        )
    return ActivationRefusedError(GENERIC_FAILURE)


def activate_with_code(
    *, user: "User", demarche: Demarche, siret: str, code: str, context: Context = SYSTEM
) -> Activation:
    """Give `user` the first-activator roles of `demarche` on `siret`, if `code` is right.

    The code's SIRET may differ from the user's own (a head office activating for a site): the
    habilitations are on the code's SIRET. Raises ActivationRefusedError (one generic message) or
    another Refusal (blocked, closed establishment, particulier, registry down).
    """
    ensure_professional(user, demarche)
    if not demarche.accepts_activation_codes:
        raise Refusal(NOT_ACCEPTING_CODES)
    # A slot per person and per SIRET before the code is looked up: codes sent at once get no
    # more lookups than the limits. A wrong code keeps them; anything else gives them back.
    slots = attempt((activation_user_limiter, user_key(user)), (activation_siret_limiter, siret))
    if slots.wait:
        with transaction.atomic():
            record(
                "demarche.activation_blocked",
                actor=user,
                demarche=demarche,
                context=context,
                data={"siret": siret, "wait_seconds": slots.wait},
            )
        raise Refusal(BLOCKED.format(wait=format_wait(slots.wait)))
    try:
        activation = _activate_if_right(user, demarche, siret, code, context=context)
    except ActivationRefusedError:
        slots.failed()
        raise
    except Exception:
        slots.succeeded()
        raise
    slots.succeeded()
    return activation


def _activate_if_right(
    user: "User", demarche: Demarche, siret: str, code: str, *, context: Context
) -> Activation:
    """The activation, when `code` is right for `siret`; else ActivationRefusedError."""
    normalized = normalize_code(code)
    candidate = None
    if is_well_formed(normalized):
        candidate = (
            ActivationCode.objects.select_related("establishment")
            .filter(demarche=demarche, code_hash=hash_code(normalized))
            .first()
        )
    if candidate is None:
        raise _failed_activation(user, demarche, siret, "unknown", context=context)
    if candidate.siret != siret:
        raise _failed_activation(
            user, demarche, siret, "siret_mismatch", context=context, code_row=candidate
        )
    reason = _unusable_reason(candidate)
    if reason:
        raise _failed_activation(user, demarche, siret, reason, context=context, code_row=candidate)

    # Outside the transaction: the registry may be asked over the network.
    establishment = candidate.establishment or resolve_establishment(siret)
    if not establishment.is_active:
        with transaction.atomic():
            record(
                "demarche.activation_failed",
                actor=user,
                target=candidate,
                demarche=demarche,
                establishment=establishment,
                context=context,
                data={"siret": siret, "reason": "closed"},
            )
        raise Refusal(CLOSED, field="siret")

    with transaction.atomic():
        # The lock makes concurrent users of one code queue here; the first one uses it.
        locked = ActivationCode.objects.select_for_update().get(pk=candidate.pk)
        reason = _unusable_reason(locked)
        if reason is None:
            activation = _activate(user, demarche, establishment, locked, context)
    if reason is not None:
        raise _failed_activation(user, demarche, siret, reason, context=context, code_row=candidate)
    return activation


def _unusable_reason(code_row: ActivationCode) -> str | None:
    if code_row.used_at is not None:
        return "used"
    if code_row.revoked_at is not None:
        return "revoked"
    if code_row.expires_at <= timezone.now():
        return "expired"
    return None


def _activate(
    user: "User",
    demarche: Demarche,
    establishment: Establishment,
    code_row: ActivationCode,
    context: Context,
) -> Activation:
    now = timezone.now()
    roles = list(demarche.roles.filter(granted_on_activation=True))
    activation = Activation(demarche=demarche, establishment=establishment)
    for role in roles:
        habilitation, _ = grant_habilitation(
            actor=user,
            user=user,
            role=role,
            establishment=establishment,
            origin=Habilitation.Origin.ACTIVATION_CODE,
            context=context,
        )
        activation.habilitations.append(habilitation)
    code_row.used_at = now
    code_row.used_by = user
    code_row.establishment = establishment
    code_row.save(update_fields=["used_at", "used_by", "establishment"])
    record(
        "demarche.activated",
        actor=user,
        target=code_row,
        demarche=demarche,
        establishment=establishment,
        context=context,
        data={"siret": establishment.siret, "roles": [role.code for role in roles]},
    )
    send_email(
        "habilitations/emails/activation_confirmed",
        user.email,
        {
            "user": user,
            "demarche": demarche,
            "establishment": establishment,
            "roles": roles,
            "manages": any(role.can_manage for role in roles),
            "mes_demarches_path": reverse("demarches:mes_demarches"),
        },
        category="activation",
        demarche=demarche,
        establishment=establishment,
    )
    return activation
