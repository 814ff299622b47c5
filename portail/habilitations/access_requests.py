"""Access requests ("DEMANDER L'ACCÈS À UN GESTIONNAIRE"): a person asks the gestionnaires of an
establishment for a role; one of them accepts (the habilitation is granted) or refuses.

Each function takes the actor, runs in one transaction, locks the rows it changes, writes its
audit events and queues its emails before it returns. Refusals are `Refusal`s whose `message` is
for the person, in French.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from portail.core.context import SYSTEM, Context
from portail.core.ratelimit import format_wait
from portail.core.refusals import Refusal
from portail.demarches.models import Demarche, Role
from portail.habilitations import notices
from portail.habilitations.admission import (
    CLOSED,
    ensure_professional,
    resolve_establishment,
    user_key,
)
from portail.habilitations.grants import grant_habilitation
from portail.habilitations.limits import access_request_limiter
from portail.habilitations.models import AccessRequest, Habilitation
from portail.habilitations.queries import gestionnaires_of
from portail.habilitations.scope import may_manage

if TYPE_CHECKING:
    from portail.accounts.models import User

NO_GESTIONNAIRE = (
    "Aucun gestionnaire ne peut encore traiter de demande d'accès à cette démarche pour cet "
    "établissement. Contactez le service en charge de la démarche."
)
DUPLICATE_REQUEST = (
    "Vous avez déjà une demande d'accès en attente pour cette démarche et cet établissement."
)
ALREADY_HELD = "Vous disposez déjà de ce rôle pour cet établissement."
REQUEST_NOT_PENDING = "Cette demande d'accès n'est plus en attente."
REQUESTS_BLOCKED = "Vous avez envoyé trop de demandes d'accès. Vous pourrez réessayer dans {wait}."

ACCESS_REQUEST_VALIDITY_DAYS = 30


class NoGestionnaireError(Refusal):
    """Nobody manages the establishment for the démarche yet: the page shows the assistance."""


def request_access(
    *,
    user: "User",
    demarche: Demarche,
    siret: str,
    role: Role,
    message: str = "",
    context: Context = SYSTEM,
) -> AccessRequest:
    """Ask the gestionnaires of `siret` for `role` of `demarche`; they get an email each."""
    ensure_professional(user, demarche)
    if role.demarche_id != demarche.pk:
        raise Refusal("Choisissez un rôle de cette démarche.", field="role")
    wait = access_request_limiter.hit(user_key(user))  # every request counts: they send emails
    if wait:
        raise Refusal(REQUESTS_BLOCKED.format(wait=format_wait(wait)))

    establishment = resolve_establishment(siret)
    if not establishment.is_active:
        raise Refusal(CLOSED, field="siret")
    if (
        Habilitation.objects.active()
        .filter(user=user, role=role, establishment=establishment)
        .exists()
    ):
        raise Refusal(ALREADY_HELD)
    now = timezone.now()
    try:
        with transaction.atomic():
            gestionnaires = list(gestionnaires_of(demarche, establishment).exclude(pk=user.pk))
            if not gestionnaires:
                raise NoGestionnaireError(NO_GESTIONNAIRE)
            # A pending request past its date no longer blocks a new one.
            AccessRequest.objects.filter(
                requester=user,
                demarche=demarche,
                establishment=establishment,
                status=AccessRequest.Status.PENDING,
                expires_at__lte=now,
            ).update(status=AccessRequest.Status.EXPIRED)
            access_request = AccessRequest.objects.create(
                requester=user,
                demarche=demarche,
                establishment=establishment,
                role=role,
                message=message.strip(),
                created_at=now,
                expires_at=now + timedelta(days=_request_validity_days()),
            )
            data = {"siret": establishment.siret, "role": role.code}
            notices.journal("access_request.created", access_request, user, context, data)
            manage_path = reverse("habilitations:manage", args=[demarche.code])
            for gestionnaire in gestionnaires:
                notices.email(
                    access_request,
                    "access_request_received",
                    gestionnaire.email,
                    {
                        "gestionnaire": gestionnaire,
                        "requester": user,
                        "access_request": access_request,
                        "demarche": demarche,
                        "establishment": establishment,
                        "role": role,
                        "manage_path": manage_path,
                    },
                )
    except IntegrityError as exc:  # the unique "one pending request" constraint
        raise Refusal(DUPLICATE_REQUEST) from exc
    return access_request


def _request_validity_days() -> int:
    return getattr(settings, "ACCESS_REQUEST_VALIDITY_DAYS", ACCESS_REQUEST_VALIDITY_DAYS)


def _lock_pending_request(actor: "User", access_request: AccessRequest) -> AccessRequest:
    locked = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("demarche", "establishment", "role", "requester")
        .get(pk=access_request.pk)
    )
    if not may_manage(actor, locked.demarche, locked.establishment):
        raise PermissionDenied("not a gestionnaire of this establishment")
    if locked.status != AccessRequest.Status.PENDING or locked.expires_at <= timezone.now():
        raise Refusal(REQUEST_NOT_PENDING)
    return locked


def _decide(
    locked: AccessRequest,
    *,
    actor: "User",
    status: str,
    action: str,
    data: dict[str, Any],
    context: Context,
    **decision: Any,
) -> None:
    """Close a locked pending request as `status`, with the decision's own fields (the role
    granted, the reason of a refusal), and journal it."""
    locked.status = status
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    for name, value in decision.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", "decided_by", "decided_at", *decision])
    notices.journal(action, locked, actor, context, {"requester": locked.requester.email, **data})


def _tell_requester(locked: AccessRequest, template: str, **context: Any) -> None:
    """Email the requester the gestionnaire's answer."""
    notices.email(
        locked,
        template,
        locked.requester.email,
        {
            "requester": locked.requester,
            "access_request": locked,
            "demarche": locked.demarche,
            "establishment": locked.establishment,
            **context,
        },
    )


def accept_access_request(
    *,
    actor: "User",
    access_request: AccessRequest,
    role: Role | None = None,
    context: Context = SYSTEM,
) -> Habilitation:
    """A gestionnaire accepts: the requester gets `role` (by default the one asked for)."""
    with transaction.atomic():
        locked = _lock_pending_request(actor, access_request)
        role = role or locked.role
        if role.demarche_id != locked.demarche_id:
            raise Refusal("Choisissez un rôle de cette démarche.", field="role")
        habilitation, _ = grant_habilitation(
            actor=actor,
            user=locked.requester,
            role=role,
            establishment=locked.establishment,
            origin=Habilitation.Origin.ACCESS_REQUEST,
            context=context,
        )
        _decide(
            locked,
            actor=actor,
            status=AccessRequest.Status.ACCEPTED,
            action="access_request.accepted",
            data={"role": role.code},
            context=context,
            granted_role=role,
        )
        _tell_requester(
            locked,
            "access_request_accepted",
            role=role,
            mes_demarches_path=reverse("demarches:mes_demarches"),
        )
    return habilitation


def refuse_access_request(
    *, actor: "User", access_request: AccessRequest, reason: str = "", context: Context = SYSTEM
) -> AccessRequest:
    """A gestionnaire refuses, optionally saying why; the requester is told."""
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _lock_pending_request(actor, access_request)
        _decide(
            locked,
            actor=actor,
            status=AccessRequest.Status.REFUSED,
            action="access_request.refused",
            data={"reason": reason},
            context=context,
            decision_reason=reason,
        )
        _tell_requester(locked, "access_request_refused", reason=reason)
    return locked


def expire_access_requests(now: datetime | None = None) -> int:
    """Mark pending requests past their date as expired (pending() already hides them)."""
    now = now or timezone.now()
    return AccessRequest.objects.filter(
        status=AccessRequest.Status.PENDING, expires_at__lte=now
    ).update(status=AccessRequest.Status.EXPIRED)
