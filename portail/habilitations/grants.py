"""Granting and revoking one habilitation: the primitive every flow uses.

Callers (activation by code, invitations, access requests, delegation, agents) run inside their
own transaction; these functions write the audit event. They never send email: the calling flow
knows which message fits.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from portail.audit.journal import record
from portail.companies.models import Establishment
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal
from portail.demarches.models import Role
from portail.habilitations.models import Habilitation

if TYPE_CHECKING:
    from portail.accounts.models import User


class HabilitationError(Refusal):
    """A rule of habilitations refused the change; the message is for the user (French)."""


def grant_habilitation(
    *,
    actor: "User | None",
    user: "User",
    role: Role,
    establishment: Establishment,
    origin: str,
    ends_at: datetime | None = None,
    context: Context = SYSTEM,
    granted_by: "User | None" = None,
) -> tuple[Habilitation, bool]:
    """Give `user` the `role` on `establishment`. Returns (habilitation, created).

    Idempotent: when the user already holds that role there, the live habilitation is returned.
    `granted_by` defaults to the actor; an accepted invitation passes the person who invited.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("grant_habilitation must run inside the caller's transaction")
    existing = (
        Habilitation.objects.select_for_update()
        .filter(user=user, role=role, establishment=establishment, revoked_at__isnull=True)
        .first()
    )
    if existing is not None and (existing.ends_at is None or existing.ends_at > timezone.now()):
        return existing, False
    if existing is not None:  # an ended delegation: close it before granting anew
        existing.revoked_at = timezone.now()
        existing.revoke_reason = "Fin de délégation"
        existing.save(update_fields=["revoked_at", "revoke_reason"])
    habilitation = Habilitation.objects.create(
        user=user,
        demarche=role.demarche,
        establishment=establishment,
        role=role,
        origin=origin,
        granted_by=granted_by or (actor if getattr(actor, "is_authenticated", False) else None),
        ends_at=ends_at,
    )
    record(
        "habilitation.granted",
        actor=actor,
        target=habilitation,
        demarche=role.demarche,
        establishment=establishment,
        context=context,
        data={"user": user.email, "role": role.code, "origin": origin},
    )
    return habilitation, True


def revoke_habilitation(
    *,
    actor: "User | None",
    habilitation: Habilitation,
    reason: str = "",
    context: Context = SYSTEM,
    journal: dict[str, Any] | None = None,
) -> Habilitation:
    """End a habilitation now. The caller checks permissions and the last-gestionnaire rule.

    `journal` adds fields to the event (an agent's revocation says it came from the support):
    one event per revocation, whoever made it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("revoke_habilitation must run inside the caller's transaction")
    habilitation = Habilitation.objects.select_for_update().get(pk=habilitation.pk)
    if habilitation.revoked_at is not None:
        return habilitation
    habilitation.revoked_at = timezone.now()
    habilitation.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
    habilitation.revoke_reason = reason[:255]
    habilitation.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    record(
        "habilitation.revoked",
        actor=actor,
        target=habilitation,
        demarche=habilitation.demarche,
        establishment=habilitation.establishment,
        context=context,
        data={
            "user": habilitation.user.email,
            "role": habilitation.role.code,
            "reason": reason,
            **(journal or {}),
        },
    )
    return habilitation
