"""Every change a gestionnaire, an invitee or an agent of the support makes: one function each.

Each takes the actor, runs in one transaction, locks the rows it changes, checks the rules again
(the view's checks are not trusted), writes the audit event and queues the emails before it
returns. Refusals are `HabilitationError`s (a `portail.core.refusals.Refusal`) whose message is
shown to the user, in French; views show them with `refusal_shown`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from portail.audit.journal import record
from portail.companies.models import Establishment
from portail.core.context import SYSTEM, Context
from portail.core.secrets import keyed_hash, new_url_token
from portail.demarches.models import Demarche, Role
from portail.habilitations import notices
from portail.habilitations.feed import record_change
from portail.habilitations.grants import (
    HabilitationError,
    grant_habilitation,
    revoke_habilitation,
)
from portail.habilitations.models import Habilitation, Invitation
from portail.habilitations.queries import colleague_accounts, gestionnaires_of
from portail.habilitations.scope import may_manage

if TYPE_CHECKING:
    from portail.accounts.models import User

# How the person and their gestionnaires are told who ended a habilitation from the back-office.
AGENT_LABEL = "Un agent du ministère du Travail (assistance aux utilisateurs)"

TOKEN_PURPOSE = "invitation"  # noqa: S105 - the keyed hash's purpose, not a secret


class InvitationError(HabilitationError):
    """The invitation cannot be used; `reason` names the case (one page per failure)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class LastGestionnaireError(HabilitationError):
    """Revoking or demoting this habilitation would leave the establishment without a
    gestionnaire."""


def invitation_validity() -> timedelta:
    return timedelta(days=getattr(settings, "INVITATION_VALIDITY_DAYS", 14))


def token_hash(token: str) -> str:
    return keyed_hash(token, TOKEN_PURPOSE)


def invitation_url(token: str) -> str:
    return settings.PORTAL_BASE_URL + reverse("habilitations:invitation", args=[token])


def _person_label(user: "User | None") -> str:
    if user is None:
        return "Un gestionnaire"
    return str(user)  # the full name, else the email


def _check_manages(actor: "User", demarche: Demarche, establishment: Establishment) -> None:
    if not may_manage(actor, demarche, establishment):
        raise HabilitationError(
            "Vous n’êtes pas gestionnaire de cette démarche pour cet établissement."
        )


# --- Invitations ---------------------------------------------------------------------------


def _tell_inviter_of_answer(invitation: Invitation, invitee: "User", *, accepted: bool) -> None:
    """Let whoever sent the invitation know it was accepted or refused."""
    if invitation.sent_by is None:
        return
    notices.email(
        invitation,
        "invitation_answered",
        invitation.sent_by.email,
        {"invitation": invitation, "invitee": _person_label(invitee), "accepted": accepted},
    )


def _already_sent(submission_key: UUID | None, actor: "User") -> Invitation | None:
    """The invitation this actor already sent with this form submission, if any."""
    if submission_key is None:
        return None
    already = Invitation.objects.filter(submission_key=submission_key).first()
    if already is not None and already.sent_by_id == actor.pk:
        return already
    return None


@dataclass
class Sent:
    invitation: Invitation
    token: str | None  # None when a double submission found the invitation already sent
    created: bool


def _send_invitation_email(invitation: Invitation, token: str) -> None:
    notices.email(
        invitation,
        "invitation",
        invitation.email,
        {
            "inviter": _person_label(invitation.sent_by),
            "demarche": invitation.demarche,
            "role": invitation.role,
            "establishment": invitation.establishment,
            "link": invitation_url(token),
            "expires_at": invitation.expires_at,
            "delegation_ends_at": invitation.delegation_ends_at,
            "is_delegation": invitation.is_delegation,
        },
    )


def _check_account_type_may_accept(
    demarche: Demarche, invited_user: "User | None", email: str
) -> None:
    """Refuse at once an invitation the invitee's account could never accept (`find_invitation`
    would say "réservée aux comptes professionnels" on the link and leave it pending forever).

    Enumeration: this tells the gestionnaire that the address they typed holds a Particulier
    account. We accept that: only a signed-in gestionnaire of the démarche reaches this check,
    for an address they mean to give access to, each sent invitation is journaled, and the
    answer says nothing more (no name, no other démarche). Refusing silently instead would leave
    them an invitation that can never be used, which is the fault this check removes."""
    if not demarche.professional_only:
        return
    account = invited_user
    if account is None:
        account = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
    if account is not None and not account.is_professional:
        raise HabilitationError(
            "Cette adresse électronique est celle d’un compte particulier : la démarche "
            f"{demarche.short_label} est réservée aux comptes professionnels, cette personne ne "
            "pourrait pas accepter l’invitation. Invitez l’adresse de son compte professionnel.",
            field="email" if invited_user is None else "user_query",
        )


def _check_invitation_rules(
    *,
    actor: "User",
    demarche: Demarche,
    role: Role,
    establishment: Establishment,
    invited_user: "User | None",
    email: str,
    kind: str,
    delegation_ends_at: datetime | None,
    now: datetime,
) -> datetime | None:
    """The rules of an invitation; returns the delegation's end (None for a colleague)."""
    _check_manages(actor, demarche, establishment)
    if role.demarche_id != demarche.pk:
        raise HabilitationError("Ce rôle n’appartient pas à cette démarche.")
    if not establishment.is_active:
        raise HabilitationError("Cet établissement est fermé : il ne peut plus être habilité.")
    if kind == Invitation.Kind.THIRD_PARTY:
        if delegation_ends_at is not None and delegation_ends_at <= now:
            raise HabilitationError(
                "La date de fin doit être postérieure à aujourd’hui.", field="ends_on"
            )
    else:
        delegation_ends_at = None
        if (
            invited_user is not None
            and not colleague_accounts(actor, demarche).filter(pk=invited_user.pk).exists()
        ):
            raise HabilitationError("Choisissez une personne de votre entreprise.")
    _check_account_type_may_accept(demarche, invited_user, email)
    holders = Habilitation.objects.active().filter(role=role, establishment=establishment)
    holders = (
        holders.filter(user=invited_user)
        if invited_user is not None
        else holders.filter(user__email__iexact=email)
    )
    if holders.exists():
        raise HabilitationError(
            f"Cette personne dispose déjà du rôle « {role.label} » pour cet établissement."
        )
    return delegation_ends_at


def invite(
    *,
    actor: "User",
    demarche: Demarche,
    role: Role,
    establishment: Establishment,
    invited_user: "User | None" = None,
    email: str = "",
    kind: str = Invitation.Kind.COLLEAGUE,
    delegation_ends_at: datetime | None = None,
    submission_key: UUID | None = None,
    context: Context = SYSTEM,
) -> Sent:
    """Invite a colleague (an account of the company, or an email address) or, with
    kind=THIRD_PARTY, delegate a role to a person outside the company by email."""
    email = (invited_user.email if invited_user is not None else email).strip().lower()
    if not email:
        raise HabilitationError(
            "Choisissez un utilisateur ou ajoutez son adresse électronique.", field="user_query"
        )
    now = timezone.now()
    with transaction.atomic():
        already = _already_sent(submission_key, actor)
        if already is not None:
            return Sent(already, None, False)
        delegation_ends_at = _check_invitation_rules(
            actor=actor,
            demarche=demarche,
            role=role,
            establishment=establishment,
            invited_user=invited_user,
            email=email,
            kind=kind,
            delegation_ends_at=delegation_ends_at,
            now=now,
        )
        open_invitation = (
            Invitation.objects.open()
            .select_for_update()
            .filter(email=email, establishment=establishment, role=role)
            .first()
        )
        if open_invitation is not None:
            if not open_invitation.is_expired(now):
                raise HabilitationError(
                    "Une invitation est déjà en attente pour cette personne avec ce rôle sur "
                    "cet établissement : vous pouvez la renvoyer depuis la liste des invitations."
                )
            # An expired invitation no longer counts: close it so a new one can be sent.
            open_invitation.cancelled_at = now
            open_invitation.save(update_fields=["cancelled_at"])
        token = new_url_token()
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    demarche=demarche,
                    establishment=establishment,
                    role=role,
                    kind=kind,
                    invited_user=invited_user,
                    email=email,
                    token_hash=token_hash(token),
                    sent_by=actor,
                    sent_at=now,
                    last_sent_at=now,
                    expires_at=now + invitation_validity(),
                    delegation_ends_at=delegation_ends_at,
                    submission_key=submission_key,
                )
        except IntegrityError:
            # A concurrent submission won the race (same form, or the same person invited by
            # two gestionnaires at once): one invitation, one email.
            already = _already_sent(submission_key, actor)
            if already is not None:
                return Sent(already, None, False)
            raise HabilitationError(
                "Une invitation est déjà en attente pour cette personne avec ce rôle sur "
                "cet établissement."
            ) from None
        record(
            "invitation.delegated" if kind == Invitation.Kind.THIRD_PARTY else "invitation.sent",
            actor=actor,
            target=invitation,
            demarche=demarche,
            establishment=establishment,
            context=context,
            data={
                "email": email,
                "role": role.code,
                "kind": kind,
                "delegation_ends_at": delegation_ends_at.isoformat() if delegation_ends_at else "",
            },
        )
        _send_invitation_email(invitation, token)
    invitation.token = token  # type: ignore[attr-defined]  # for the caller only; never stored
    return Sent(invitation, token, True)


def _lock_open_invitation(actor: "User", invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _check_manages(actor, invitation.demarche, invitation.establishment)
    if invitation.accepted_at or invitation.refused_at or invitation.cancelled_at:
        raise HabilitationError("Cette invitation n’est plus en attente.")
    return invitation


def resend_invitation(*, actor: "User", invitation: Invitation, context: Context = SYSTEM) -> str:
    """A new link (the previous one stops working) and a new validity period."""
    with transaction.atomic():
        invitation = _lock_open_invitation(actor, invitation)
        now = timezone.now()
        token = new_url_token()
        invitation.token_hash = token_hash(token)
        invitation.last_sent_at = now
        invitation.expires_at = now + invitation_validity()
        invitation.save(update_fields=["token_hash", "last_sent_at", "expires_at"])
        notices.journal(
            "invitation.resent",
            invitation,
            actor,
            context,
            {"email": invitation.email, "role": invitation.role.code},
        )
        _send_invitation_email(invitation, token)
    return token


def cancel_invitation(
    *, actor: "User", invitation: Invitation, context: Context = SYSTEM
) -> Invitation:
    with transaction.atomic():
        invitation = _lock_open_invitation(actor, invitation)
        invitation.cancelled_at = timezone.now()
        invitation.cancelled_by = actor
        invitation.save(update_fields=["cancelled_at", "cancelled_by"])
        notices.journal(
            "invitation.cancelled",
            invitation,
            actor,
            context,
            {"email": invitation.email, "role": invitation.role.code},
        )
        notices.email(
            invitation,
            "invitation_cancelled",
            invitation.email,
            {"invitation": invitation, "inviter": _person_label(actor)},
        )
    return invitation


def find_invitation(
    user: "User", token: str | None = None, *, pk: int | None = None, lock: bool = False
) -> Invitation:
    """The invitation of `token` (the email's link) or of `pk` (from "Mes démarches") if `user`
    may answer it; else InvitationError with a reason: unknown, cancelled, used, expired,
    not_for_you, particulier. By pk, someone else's invitation is "unknown" (never revealed)."""
    queryset = Invitation.objects.select_related(
        "demarche", "establishment", "role", "sent_by", "invited_user"
    )
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    if token is not None:
        invitation = queryset.filter(token_hash=token_hash(token)).first()
    else:
        invitation = queryset.filter(pk=pk).first() if pk is not None else None
    if invitation is None:
        raise InvitationError("Ce lien d’invitation n’est pas valide.", "unknown")
    if invitation.invited_user_id is not None:
        is_for_user = invitation.invited_user_id == user.pk
    else:
        is_for_user = invitation.email.lower() == user.email.lower()
    if not is_for_user:
        if token is None:
            raise InvitationError("Ce lien d’invitation n’est pas valide.", "unknown")
        raise InvitationError("Cette invitation a été envoyée à une autre personne.", "not_for_you")
    if invitation.cancelled_at is not None:
        raise InvitationError("Cette invitation a été annulée par le gestionnaire.", "cancelled")
    if invitation.accepted_at is not None or invitation.refused_at is not None:
        raise InvitationError("Cette invitation a déjà été utilisée.", "used")
    if invitation.is_expired():
        raise InvitationError("Cette invitation a expiré.", "expired")
    if invitation.demarche.professional_only and not user.is_professional:
        raise InvitationError(
            "Cette démarche est réservée aux comptes professionnels.", "particulier"
        )
    return invitation


def accept_invitation(
    *, user: "User", token: str | None = None, pk: int | None = None, context: Context = SYSTEM
) -> Habilitation:
    with transaction.atomic():
        invitation = find_invitation(user, token, pk=pk, lock=True)
        if not invitation.establishment.is_active:
            raise InvitationError("Cet établissement est fermé.", "closed")
        habilitation, _created = grant_habilitation(
            actor=user,
            user=user,
            role=invitation.role,
            establishment=invitation.establishment,
            origin=(
                Habilitation.Origin.DELEGATION
                if invitation.is_delegation
                else Habilitation.Origin.INVITATION
            ),
            ends_at=invitation.delegation_ends_at,
            context=context,
            granted_by=invitation.sent_by,
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.habilitation = habilitation
        invitation.save(update_fields=["accepted_at", "accepted_by", "habilitation"])
        notices.journal(
            "invitation.accepted", invitation, user, context, {"role": invitation.role.code}
        )
        _tell_inviter_of_answer(invitation, user, accepted=True)
    return habilitation


def refuse_invitation(
    *, user: "User", token: str | None = None, pk: int | None = None, context: Context = SYSTEM
) -> Invitation:
    with transaction.atomic():
        invitation = find_invitation(user, token, pk=pk, lock=True)
        invitation.refused_at = timezone.now()
        invitation.save(update_fields=["refused_at"])
        notices.journal(
            "invitation.refused", invitation, user, context, {"role": invitation.role.code}
        )
        _tell_inviter_of_answer(invitation, user, accepted=False)
    return invitation


# --- People --------------------------------------------------------------------------------


def _lock_managers_of(demarche_id: int, establishment_id: int) -> None:
    """Lock the live managing habilitations of an establishment, in pk order. Every change that
    may remove a gestionnaire takes these locks first, so two of them queue up instead of
    deadlocking (each would otherwise hold its own target and wait for the other's)."""
    list(
        Habilitation.objects.active()
        .select_for_update(of=("self",))
        .filter(demarche_id=demarche_id, establishment_id=establishment_id, role__can_manage=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _lock_live_habilitation(actor: "User", habilitation: Habilitation) -> Habilitation:
    _lock_managers_of(habilitation.demarche_id, habilitation.establishment_id)
    habilitation = (
        Habilitation.objects.select_for_update(of=("self",))
        .select_related("user", "role", "establishment", "demarche")
        .get(pk=habilitation.pk)
    )
    _check_manages(actor, habilitation.demarche, habilitation.establishment)
    now = timezone.now()
    if habilitation.revoked_at is not None or (
        habilitation.ends_at is not None and habilitation.ends_at <= now
    ):
        raise HabilitationError("Cette habilitation a déjà pris fin.")
    return habilitation


def _ensure_not_last_gestionnaire(habilitation: Habilitation) -> None:
    """A centre keeps at least one gestionnaire (delegations, which end by themselves, do not
    count). The managing habilitations of the establishment are locked, in a fixed order, so
    two gestionnaires removing each other at the same moment cannot both succeed."""
    if not habilitation.role.can_manage or habilitation.ends_at is not None:
        return
    holders = list(
        Habilitation.objects.active()
        .select_for_update(of=("self",))
        .filter(
            demarche=habilitation.demarche,
            establishment=habilitation.establishment,
            role__can_manage=True,
            ends_at__isnull=True,
        )
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
    if not set(holders) - {habilitation.user_id}:
        raise LastGestionnaireError(
            f"{_person_label(habilitation.user)} est le dernier gestionnaire de "
            f"l’établissement {habilitation.establishment.name} "
            f"(SIRET {habilitation.establishment.siret}) : la démarche ne peut pas rester sans "
            "gestionnaire. Habilitez d’abord un autre gestionnaire."
        )


def last_gestionnaire_reason(habilitation: Habilitation) -> str:
    """The reason why `habilitation` may not be revoked, or "" (for the confirmation page)."""
    try:
        with transaction.atomic():
            _ensure_not_last_gestionnaire(habilitation)
    except LastGestionnaireError as error:
        return str(error)
    return ""


def revoke(
    *, actor: "User", habilitation: Habilitation, reason: str = "", context: Context = SYSTEM
) -> Habilitation:
    with transaction.atomic():
        habilitation = _lock_live_habilitation(actor, habilitation)
        _ensure_not_last_gestionnaire(habilitation)
        habilitation = revoke_habilitation(
            actor=actor,
            habilitation=habilitation,
            reason=reason or "Révoquée par un gestionnaire",
            context=context,
        )
        notices.email(
            habilitation,
            "habilitation_revoked",
            habilitation.user.email,
            {"habilitation": habilitation, "actor": _person_label(actor), "reason": ""},
        )
    return habilitation


def revoke_by_agent(
    *, actor: "User", habilitation: Habilitation, reason: str, context: Context = SYSTEM
) -> Habilitation:
    """An agent of the back-office ends a habilitation (telephone assistance), with a reason.

    The back-office checks the agent's regions before it calls this. Everything else is what a
    gestionnaire's `revoke` does — the same revocation, journaled once (with `support` and the
    reason as fields of that event), the person told — plus a notice to the establishment's
    gestionnaires, who did not make the change. An agent may remove the last gestionnaire: the
    centre then gets a new activation code by letter."""
    with transaction.atomic():
        _lock_managers_of(habilitation.demarche_id, habilitation.establishment_id)
        habilitation = (
            Habilitation.objects.select_for_update(of=("self",))
            .select_related("user", "role", "establishment", "demarche")
            .get(pk=habilitation.pk)
        )
        if habilitation.revoked_at is not None or (
            habilitation.ends_at is not None and habilitation.ends_at <= timezone.now()
        ):
            raise HabilitationError("Cette habilitation a déjà pris fin.")
        habilitation = revoke_habilitation(
            actor=actor,
            habilitation=habilitation,
            reason=f"Agent : {reason}",
            context=context,
            journal={"support": True, "reason": reason},
        )
        about = {"habilitation": habilitation, "actor": AGENT_LABEL, "reason": reason}
        notices.email(habilitation, "habilitation_revoked", habilitation.user.email, about)
        gestionnaires = gestionnaires_of(habilitation.demarche, habilitation.establishment)
        for gestionnaire in gestionnaires.exclude(pk=habilitation.user_id):
            notices.email(
                habilitation,
                "habilitation_revoked_notice",
                gestionnaire.email,
                {**about, "gestionnaire": gestionnaire, "person": _person_label(habilitation.user)},
            )
    return habilitation


def change_role(
    *, actor: "User", habilitation: Habilitation, role: Role, context: Context = SYSTEM
) -> Habilitation:
    """Replace the person's role on that establishment: the old habilitation ends, a new one
    starts (the history keeps both)."""
    with transaction.atomic():
        habilitation = _lock_live_habilitation(actor, habilitation)
        if role.demarche_id != habilitation.demarche_id:
            raise HabilitationError("Ce rôle n’appartient pas à cette démarche.", field="role")
        if role.pk == habilitation.role_id:
            raise HabilitationError(f"La personne a déjà le rôle « {role.label} ».", field="role")
        if not role.can_manage:
            _ensure_not_last_gestionnaire(habilitation)
        if (
            Habilitation.objects.active()
            .filter(user=habilitation.user, role=role, establishment=habilitation.establishment)
            .exists()
        ):
            raise HabilitationError(
                f"Cette personne dispose déjà du rôle « {role.label} » pour cet établissement."
            )
        previous_role = habilitation.role
        revoke_habilitation(
            actor=actor,
            habilitation=habilitation,
            reason=f"Changement de rôle : {role.label}",
            context=context,
            feed=False,
        )
        new, _created = grant_habilitation(
            actor=actor,
            user=habilitation.user,
            role=role,
            establishment=habilitation.establishment,
            origin=habilitation.origin,
            ends_at=habilitation.ends_at,
            context=context,
            feed=False,
        )
        # One event for the démarches: the role changed (not a revocation, then a grant).
        record_change(new, added=role.code, removed=previous_role.code)
        data = {"user": new.user.email, "from": previous_role.code, "to": role.code}
        notices.journal("habilitation.role_changed", new, actor, context, data)
        notices.email(
            new,
            "role_changed",
            new.user.email,
            {"habilitation": new, "previous_role": previous_role, "actor": _person_label(actor)},
        )
    return new
