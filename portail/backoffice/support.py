"""Telephone assistance: find an account, see it, and the agent's support actions (audited)."""

from typing import NamedTuple

from django.db import transaction
from django.db.models import Q, QuerySet

from portail.accounts import flows as account_flows
from portail.accounts.models import User
from portail.audit.journal import record
from portail.audit.models import AuditEvent
from portail.backoffice import journal as agents_journal
from portail.backoffice.flows import BackofficeError
from portail.backoffice.models import AgentProfile
from portail.centres.models import Centre, LinkedSite
from portail.core import ratelimit
from portail.core.context import SYSTEM, Context
from portail.core.ratelimit import Limiter, format_remaining
from portail.demarches.models import Demarche
from portail.habilitations import flows as habilitation_flows
from portail.habilitations.models import Habilitation

MAX_RESULTS = 50


def search_accounts(text: str) -> QuerySet[User]:
    text = (text or "").strip()
    digits = "".join(text.split())
    query = (
        Q(email__icontains=text)
        | Q(last_name__icontains=text)
        | Q(first_name__icontains=text)
        | Q(declared_company_name__icontains=text)
    )
    if digits.isdigit() and len(digits) >= 9:
        query |= Q(declared_siret__startswith=digits) | Q(
            habilitations__establishment__siret__startswith=digits
        )
    parts = text.split()
    if len(parts) == 2:  # "Prénom Nom" or "Nom Prénom"
        a, b = parts
        query |= Q(first_name__iexact=a, last_name__iexact=b) | Q(
            first_name__iexact=b, last_name__iexact=a
        )
    return (
        User.objects.filter(query)
        .distinct()
        .order_by("last_name", "first_name", "email")[:MAX_RESULTS]
    )


def establishments_in_scope(agent: AgentProfile) -> set[int]:
    """Establishment ids of the centres (and their sites liés) of the agent's regions."""
    centres = Centre.objects.visible_to(agent)
    return set(centres.values_list("establishment_id", flat=True)) | set(
        LinkedSite.objects.filter(centre__in=centres, establishment__isnull=False).values_list(
            "establishment_id", flat=True
        )
    )


def can_act_on(agent: AgentProfile, habilitation: Habilitation) -> bool:
    if agent.is_national:
        return True
    return habilitation.establishment_id in establishments_in_scope(agent)


def habilitations_of(user: User, agent: AgentProfile) -> list[Habilitation]:
    """The person's habilitations, live first, each marked `in_scope` (the agent may act on it)."""
    habilitations = list(
        Habilitation.objects.filter(user=user)
        .select_related("demarche", "role", "establishment", "revoked_by")
        .order_by("revoked_at", "-granted_at")
    )
    scope = None if agent.is_national else establishments_in_scope(agent)
    for habilitation in habilitations:
        habilitation.in_scope = scope is None or habilitation.establishment_id in scope
    return habilitations


def live_demarches(habilitations: list[Habilitation]) -> list[Demarche]:
    """The démarches of the live habilitations among `habilitations`, in the catalogue's order."""
    return sorted(
        {h.demarche for h in habilitations if h.revoked_at is None}, key=lambda d: d.order
    )


def recent_events(user: User, limit: int = 30) -> QuerySet[AuditEvent]:
    """What the person did, and what was done to their account and their habilitations."""
    return AuditEvent.objects.filter(agents_journal.about_account([user.pk])).order_by(
        "-at", "-id"
    )[:limit]


def known_limiters() -> dict[str, Limiter]:
    """Every rate limiter of the portal, by name (the registry of portail.core.ratelimit)."""
    return ratelimit.registered()


class Wait(NamedTuple):
    limiter: Limiter
    subject: str
    seconds: int

    @property
    def sentence(self) -> str:
        """'Connexion suspendue après plusieurs mots de passe erronés, encore 49 secondes'."""
        label = self.limiter.label or "Attente après trop de tentatives"
        return f"{label}, encore {format_remaining(self.seconds)}"


def waits_for(user: User) -> list[Wait]:
    """A `Wait` (limiter, subject, seconds) for each limiter currently blocking this account."""
    # The keys the portal's limiters use for a person: email, id, and their SIRETs.
    subjects = {user.email, str(user.pk), f"user:{user.pk}"}
    if user.declared_siret:
        subjects.add(user.declared_siret)
    subjects |= set(
        Habilitation.objects.filter(user=user).values_list("establishment__siret", flat=True)
    )
    pairs = [(lim, subject) for lim in known_limiters().values() for subject in sorted(subjects)]
    # One read of the store for all of them (it may be the database).
    seconds = ratelimit.waits(pairs)
    return [
        Wait(lim, subject, wait)
        for (lim, subject), wait in zip(pairs, seconds, strict=True)
        if wait
    ]


@transaction.atomic
def lift_waits(*, actor: User | None, user: User, context: Context = SYSTEM) -> list[str]:
    lifted = []
    for limiter, subject, _ in waits_for(user):
        limiter.reset(subject)
        lifted.append(limiter.name)
    record(
        "backoffice.support.ratelimit_lifted",
        actor=actor,
        target=user,
        context=context,
        data={"limiters": lifted},
    )
    return lifted


def resend_activation_email(*, actor: User | None, user: User, context: Context = SYSTEM) -> None:
    """The activation link again, journaled once by the accounts' flow with `support` set."""
    account_flows.resend_activation_to(user, actor=actor, context=context, support=True)


def revoke_for_support(
    *, actor: User, habilitation: Habilitation, reason: str, context: Context = SYSTEM
) -> Habilitation:
    """Revoke a habilitation with a reason, as an agent, within the agent's regions: the
    habilitations' flow does the rest (journal, the person and the gestionnaires told)."""
    with transaction.atomic():
        if not can_act_on(actor.agent_profile, habilitation):
            raise BackofficeError("Cette habilitation n’est pas dans votre périmètre.")
        return habilitation_flows.revoke_by_agent(
            actor=actor, habilitation=habilitation, reason=reason, context=context
        )
