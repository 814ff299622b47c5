"""State changes of the démarches: activation by SIRET + code, access requests and their decisions.

Each function takes the actor, runs in one transaction, locks the rows it changes, writes its
audit events and queues its emails before it returns (STYLE.md, "One function per state change").
Refusals raise `DemarcheError` (or a subclass) whose `message` is for the user, in French.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from portail.audit.journal import record
from portail.companies.models import Establishment
from portail.core.ratelimit import Limiter, format_wait
from portail.demarches.codes import hash_code, is_well_formed, normalize_code
from portail.demarches.models import ActivationCode, Demarche, Role
from portail.demarches.queries import gestionnaires_of, may_manage
from portail.habilitations.grants import grant_habilitation
from portail.habilitations.models import AccessRequest, Habilitation
from portail.notifications.emails import send_email

# One message for every wrong code: unknown, used, expired, revoked, or bound to another SIRET.
GENERIC_FAILURE = (
    "Le SIRET ou le code d'activation est incorrect, ou ce code n'est plus valable. "
    "Vérifiez votre saisie ; si le problème persiste, contactez le service en charge "
    "de la démarche."
)
BLOCKED = "Trop de tentatives infructueuses. Vous pourrez réessayer dans {wait}."
CLOSED = (
    "Cet établissement est fermé selon le répertoire des entreprises : la démarche ne peut "
    "pas être activée pour ce SIRET."
)
UNKNOWN_ESTABLISHMENT = "Ce SIRET est inconnu du répertoire des entreprises."
REGISTRY_DOWN = (
    "Le répertoire des entreprises ne répond pas pour le moment : réessayez dans quelques minutes."
)
PROFESSIONALS_ONLY = (
    "La démarche {name} est réservée aux comptes professionnels. Votre compte est un compte "
    "particulier : pour accéder à cette démarche, créez un compte professionnel avec le SIRET "
    "de votre établissement."
)
NOT_ACCEPTING_CODES = "Cette démarche ne s'active pas par code d'activation."
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

# Per person and per SIRET: 5 failures in 15 minutes, then a wait that doubles (1 min → 1 h).
activation_user_limiter = Limiter("activation-user", limit=5, window=15 * 60)
activation_siret_limiter = Limiter("activation-siret", limit=5, window=15 * 60)
# Every access request counts (they email people): 10 per hour per person.
access_request_limiter = Limiter("access-request-user", limit=10, window=60 * 60)


class DemarcheError(Exception):
    """A refusal; `message` is meant for the user (French)."""

    def __init__(self, message: str, *, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(message)


class ActivationRefusedError(DemarcheError):
    pass


class NoGestionnaireError(DemarcheError):
    pass


@dataclass
class Activation:
    demarche: Demarche
    establishment: Establishment
    habilitations: list[Habilitation] = field(default_factory=list)


def is_particulier(user) -> bool:
    from portail.accounts.models import User

    return user.account_type == User.AccountType.PARTICULIER


def refused_to(user, demarche: Demarche) -> bool:
    """A particulier account asking for a démarche reserved to professionals."""
    return demarche.professional_only and is_particulier(user)


def ensure_professional(user, demarche: Demarche) -> None:
    if refused_to(user, demarche):
        raise DemarcheError(PROFESSIONALS_ONLY.format(name=demarche.short_label))


def resolve_establishment(siret: str) -> Establishment:
    """The Establishment of `siret`: the portal's row, else the company registry's answer."""
    establishment = Establishment.objects.filter(siret=siret).first()
    if establishment is not None:
        return establishment
    from portail.companies import registry

    try:
        return registry.establishment_from_registry(siret)
    except registry.RegistryUnavailable as exc:
        raise DemarcheError(REGISTRY_DOWN, field="siret") from exc
    except registry.RegistryError as exc:
        raise DemarcheError(exc.message or UNKNOWN_ESTABLISHMENT, field="siret") from exc


def _user_key(user) -> str:
    return f"user:{user.pk}"


def _activation_wait(user, siret: str) -> int:
    return max(
        activation_user_limiter.wait_seconds(_user_key(user)),
        activation_siret_limiter.wait_seconds(siret),
    )


def _failed_activation(
    user, demarche, siret, reason, *, request, code_row=None
) -> ActivationRefusedError:
    """Journal the failed attempt (its own transaction), count it, return the error to raise."""
    with transaction.atomic():
        record(
            "demarche.activation_failed",
            actor=user,
            target=code_row,
            demarche=demarche,
            establishment=code_row.establishment if code_row is not None else None,
            request=request,
            data={"siret": siret, "reason": reason},
        )
    activation_user_limiter.fail(_user_key(user))
    activation_siret_limiter.fail(siret)
    return ActivationRefusedError(GENERIC_FAILURE)


def activate_with_code(
    *, user, demarche: Demarche, siret: str, code: str, request=None
) -> Activation:
    """Give `user` the first-activator roles of `demarche` on `siret`, if `code` is right.

    The code's SIRET may differ from the user's own (a head office activating for a site): the
    habilitations are on the code's SIRET. Raises ActivationRefusedError (one generic message) or
    DemarcheError (blocked, closed establishment, particulier, registry down).
    """
    ensure_professional(user, demarche)
    if not demarche.accepts_activation_codes:
        raise DemarcheError(NOT_ACCEPTING_CODES)
    wait = _activation_wait(user, siret)
    if wait:
        with transaction.atomic():
            record(
                "demarche.activation_blocked",
                actor=user,
                demarche=demarche,
                request=request,
                data={"siret": siret, "wait_seconds": wait},
            )
        raise DemarcheError(BLOCKED.format(wait=format_wait(wait)))

    normalized = normalize_code(code)
    candidate = None
    if is_well_formed(normalized):
        candidate = (
            ActivationCode.objects.select_related("establishment")
            .filter(demarche=demarche, code_hash=hash_code(normalized))
            .first()
        )
    if candidate is None:
        raise _failed_activation(user, demarche, siret, "unknown", request=request)
    if candidate.siret != siret:
        raise _failed_activation(
            user, demarche, siret, "siret_mismatch", request=request, code_row=candidate
        )
    reason = _unusable_reason(candidate)
    if reason:
        raise _failed_activation(user, demarche, siret, reason, request=request, code_row=candidate)

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
                request=request,
                data={"siret": siret, "reason": "closed"},
            )
        raise DemarcheError(CLOSED, field="siret")

    with transaction.atomic():
        # The lock makes concurrent users of one code queue here; the first one uses it.
        locked = ActivationCode.objects.select_for_update().get(pk=candidate.pk)
        reason = _unusable_reason(locked)
        if reason is None:
            activation = _activate(user, demarche, establishment, locked, request)
    if reason is not None:
        raise _failed_activation(user, demarche, siret, reason, request=request, code_row=candidate)
    return activation


def _unusable_reason(code_row: ActivationCode) -> str | None:
    if code_row.used_at is not None:
        return "used"
    if code_row.revoked_at is not None:
        return "revoked"
    if code_row.expires_at <= timezone.now():
        return "expired"
    return None


def _activate(user, demarche, establishment, code_row, request) -> Activation:
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
            request=request,
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
        request=request,
        data={"siret": establishment.siret, "roles": [role.code for role in roles]},
    )
    send_email(
        "demarches/emails/activation_confirmed",
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


# --- Access requests ("DEMANDER L'ACCÈS À UN GESTIONNAIRE") ---------------------------------


def request_access(
    *,
    user,
    demarche: Demarche,
    siret: str,
    role: Role,
    message: str = "",
    request=None,
) -> AccessRequest:
    """Ask the gestionnaires of `siret` for `role` of `demarche`; they get an email each."""
    ensure_professional(user, demarche)
    if role.demarche_id != demarche.pk:
        raise DemarcheError("Choisissez un rôle de cette démarche.", field="role")
    wait = access_request_limiter.wait_seconds(_user_key(user))
    if wait:
        raise DemarcheError(REQUESTS_BLOCKED.format(wait=format_wait(wait)))
    access_request_limiter.fail(_user_key(user))  # every request counts: they send emails

    establishment = resolve_establishment(siret)
    if not establishment.is_active:
        raise DemarcheError(CLOSED, field="siret")
    if (
        Habilitation.objects.active()
        .filter(user=user, role=role, establishment=establishment)
        .exists()
    ):
        raise DemarcheError(ALREADY_HELD)
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
            record(
                "access_request.created",
                actor=user,
                target=access_request,
                demarche=demarche,
                establishment=establishment,
                request=request,
                data={"siret": establishment.siret, "role": role.code},
            )
            manage_path = reverse("habilitations:manage", args=[demarche.code])
            for gestionnaire in gestionnaires:
                send_email(
                    "demarches/emails/access_request_received",
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
                    category="access_request",
                    demarche=demarche,
                    establishment=establishment,
                )
    except IntegrityError as exc:  # the unique "one pending request" constraint
        raise DemarcheError(DUPLICATE_REQUEST) from exc
    return access_request


def _request_validity_days() -> int:
    return getattr(settings, "ACCESS_REQUEST_VALIDITY_DAYS", ACCESS_REQUEST_VALIDITY_DAYS)


def _lock_pending_request(actor, access_request: AccessRequest) -> AccessRequest:
    locked = (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("demarche", "establishment", "role", "requester")
        .get(pk=access_request.pk)
    )
    if not may_manage(actor, locked.demarche, locked.establishment):
        raise PermissionDenied("not a gestionnaire of this establishment")
    if locked.status != AccessRequest.Status.PENDING or locked.expires_at <= timezone.now():
        raise DemarcheError(REQUEST_NOT_PENDING)
    return locked


def _decide(locked: AccessRequest, *, actor, status, action: str, data: dict, request, **decision):
    """Close a locked pending request as `status`, with the decision's own fields (the role
    granted, the reason of a refusal), and journal it."""
    locked.status = status
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    for name, value in decision.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", "decided_by", "decided_at", *decision])
    record(
        action,
        actor=actor,
        target=locked,
        demarche=locked.demarche,
        establishment=locked.establishment,
        request=request,
        data={"requester": locked.requester.email, **data},
    )


def _tell_requester(locked: AccessRequest, template: str, **context) -> None:
    """Email the requester the gestionnaire's answer."""
    send_email(
        template,
        locked.requester.email,
        {
            "requester": locked.requester,
            "access_request": locked,
            "demarche": locked.demarche,
            "establishment": locked.establishment,
            **context,
        },
        category="access_request",
        demarche=locked.demarche,
        establishment=locked.establishment,
    )


def accept_access_request(
    *, actor, access_request: AccessRequest, role: Role | None = None, request=None
) -> Habilitation:
    """A gestionnaire accepts: the requester gets `role` (by default the one asked for)."""
    with transaction.atomic():
        locked = _lock_pending_request(actor, access_request)
        role = role or locked.role
        if role.demarche_id != locked.demarche_id:
            raise DemarcheError("Choisissez un rôle de cette démarche.", field="role")
        habilitation, _ = grant_habilitation(
            actor=actor,
            user=locked.requester,
            role=role,
            establishment=locked.establishment,
            origin=Habilitation.Origin.ACCESS_REQUEST,
            request=request,
        )
        _decide(
            locked,
            actor=actor,
            status=AccessRequest.Status.ACCEPTED,
            action="access_request.accepted",
            data={"role": role.code},
            request=request,
            granted_role=role,
        )
        _tell_requester(
            locked,
            "demarches/emails/access_request_accepted",
            role=role,
            mes_demarches_path=reverse("demarches:mes_demarches"),
        )
    return habilitation


def refuse_access_request(
    *, actor, access_request: AccessRequest, reason: str = "", request=None
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
            request=request,
            decision_reason=reason,
        )
        _tell_requester(locked, "demarches/emails/access_request_refused", reason=reason)
    return locked


def expire_access_requests(now=None) -> int:
    """Mark pending requests past their date as expired (pending() already hides them)."""
    now = now or timezone.now()
    return AccessRequest.objects.filter(
        status=AccessRequest.Status.PENDING, expires_at__lte=now
    ).update(status=AccessRequest.Status.EXPIRED)
