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
from portail.habilitations.feed import record_change
from portail.habilitations.models import Habilitation, HabilitationChange

if TYPE_CHECKING:
    from portail.accounts.models import User

Kind = HabilitationChange.Kind


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
    feed: bool = True,
) -> tuple[Habilitation, bool]:
    """Give `user` the `role` on `establishment`. Returns (habilitation, created).

    Idempotent: when the user already holds that role there, the live habilitation is returned
    (a suspended one stays suspended: only `resume_habilitation` lifts a suspension).
    `granted_by` defaults to the actor; an accepted invitation passes the person who invited.
    `feed=False`: the caller writes the feed's event itself (a role change is one event).
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
        end_delegation(existing)
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
    if feed:
        record_change(habilitation, added=role.code)
    return habilitation, True


def revoke_habilitation(
    *,
    actor: "User | None",
    habilitation: Habilitation,
    reason: str = "",
    context: Context = SYSTEM,
    journal: dict[str, Any] | None = None,
    feed: bool = True,
) -> Habilitation:
    """End a habilitation now. The caller checks permissions and the last-gestionnaire rule.

    `journal` adds fields to the event (an agent's revocation says it came from the support):
    one event per revocation, whoever made it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("revoke_habilitation must run inside the caller's transaction")
    habilitation = Habilitation.objects.select_for_update().get(pk=habilitation.pk)
    if habilitation.revoked_at is not None:
        return habilitation
    ended = habilitation.ends_at is not None and habilitation.ends_at <= timezone.now()
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
    if feed and ended:  # the role was gone since ends_at: that is what the démarche learns
        record_change(
            habilitation,
            removed=habilitation.role.code,
            kind=HabilitationChange.Kind.DELEGATION_EXPIRED,
            occurred_at=habilitation.ends_at,
        )
    elif feed:
        record_change(habilitation, removed=habilitation.role.code)
    return habilitation


def suspend_habilitation(
    *,
    actor: "User | None",
    habilitation: Habilitation,
    reason: str,
    context: Context = SYSTEM,
    feed: bool = True,
) -> Habilitation:
    """Take away the access a live habilitation gives, for `reason` (`Habilitation.Suspension`),
    until it is resumed or ended. Idempotent: a suspended one keeps its first date and reason."""
    if reason not in Habilitation.Suspension.values:
        raise ValueError(f"unknown suspension reason {reason!r}")
    return _set_suspension(actor, habilitation, reason, context=context, feed=feed)


def resume_habilitation(
    *,
    actor: "User | None",
    habilitation: Habilitation,
    context: Context = SYSTEM,
    feed: bool = True,
) -> Habilitation:
    """Give back the access of a suspended habilitation. Idempotent."""
    return _set_suspension(actor, habilitation, "", context=context, feed=feed)


def _set_suspension(
    actor: "User | None", habilitation: Habilitation, reason: str, *, context: Context, feed: bool
) -> Habilitation:
    """Suspend for `reason`, or resume (`reason` empty): the row, its journal line, its event."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a suspension changes inside the caller's transaction")
    habilitation = Habilitation.objects.select_for_update().get(pk=habilitation.pk)
    if habilitation.revoked_at is not None or habilitation.is_suspended == bool(reason):
        return habilitation
    journal_reason = reason or habilitation.suspension_reason
    habilitation.suspended_at = timezone.now() if reason else None
    habilitation.suspension_reason = reason
    habilitation.save(update_fields=["suspended_at", "suspension_reason"])
    record(
        "habilitation.suspended" if reason else "habilitation.resumed",
        actor=actor,
        target=habilitation,
        demarche=habilitation.demarche,
        establishment=habilitation.establishment,
        context=context,
        data={
            "user": habilitation.user.email,
            "role": habilitation.role.code,
            "reason": journal_reason,
        },
    )
    if feed and reason:
        record_change(habilitation, removed=habilitation.role.code, kind=Kind.SUSPENDED)
    elif feed:
        record_change(habilitation, added=habilitation.role.code, kind=Kind.RESUMED)
    return habilitation


def end_delegation(habilitation: Habilitation) -> Habilitation:
    """Close a delegation whose end has come (the system acts): its feed event is dated ends_at."""
    return revoke_habilitation(actor=None, habilitation=habilitation, reason="Fin de délégation")


def end_ended_delegations(limit: int = 500) -> int:
    """The chore: close the delegations whose end has passed, one transaction each, so that the
    démarches learn it (HabilitationChange "delegation_expired")."""
    ended = list(
        Habilitation.objects.filter(revoked_at__isnull=True, ends_at__lte=timezone.now())
        .order_by("ends_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ended:
        with transaction.atomic():
            habilitation = Habilitation.objects.select_for_update().filter(pk=pk).first()
            if habilitation is not None and habilitation.revoked_at is None:
                end_delegation(habilitation)
    return len(ended)
