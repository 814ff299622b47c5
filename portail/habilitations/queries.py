"""Read-side helpers: what other apps show of habilitations, and the colleague search."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from portail.habilitations.models import Habilitation, Invitation
from portail.habilitations.scope import managed_sirens

AUTOCOMPLETE_LIMIT = 10
MIN_SEARCH_LENGTH = 2


def pending_invitations_for(user):
    """Invitations waiting for `user` (sent to the account or to its email address)."""
    return (
        Invitation.objects.pending()
        .filter(Q(invited_user=user) | Q(invited_user__isnull=True, email__iexact=user.email))
        .select_related("demarche", "establishment", "role", "sent_by")
    )


def _company_people(sirens) -> Q:
    """Accounts of a company: declared at sign-up with that SIREN, or holding a live
    habilitation on one of its establishments."""
    habilitated = (
        Habilitation.objects.active().filter(establishment__siren__in=sirens).values("user_id")
    )
    return Q(declared_siren__in=sirens) | Q(pk__in=habilitated)


def colleague_accounts(actor, demarche) -> QuerySet:
    """The portal accounts a gestionnaire may invite as colleagues (same SIREN)."""
    sirens = managed_sirens(actor, demarche)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(account_type="particulier")
        .filter(_company_people(sirens))
    )


def name_filter(text: str, prefix: str = "") -> Q:
    """Each word typed starts the first or the last name (any case)."""
    condition = Q()
    for word in text.split()[:4]:
        condition &= Q(**{f"{prefix}last_name__istartswith": word}) | Q(
            **{f"{prefix}first_name__istartswith": word}
        )
    return condition


def search_colleagues(
    actor, demarche, text: str, limit: int = AUTOCOMPLETE_LIMIT, *, sirens=None
) -> list:
    """The autocomplete: accounts of the gestionnaire's company whose name starts with `text`.

    Two indexed queries (declared SIREN, then habilitations on the company's establishments)
    rather than one OR that would defeat the (declared_siren, last_name, first_name) index;
    plus one for the SIRENs. At most three queries whatever the size of the company.
    """
    text = " ".join(text.split())
    if len(text) < MIN_SEARCH_LENGTH:
        return []
    if sirens is None:
        sirens = list(managed_sirens(actor, demarche).values_list("siren", flat=True))
    if not sirens:
        return []
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(account_type="particulier")
        .filter(name_filter(text))
        .only("public_id", "email", "first_name", "last_name")
    )
    declared = list(
        users.filter(declared_siren__in=sirens).order_by("last_name", "first_name", "pk")[:limit]
    )
    if len(declared) == limit:
        # Enough names already: people habilitated without having declared the SIREN appear
        # once the typed prefix is precise enough (this query reads every habilitated person of
        # the company, the first one only an index range).
        return declared
    habilitated = list(
        users.filter(
            pk__in=Habilitation.objects.active()
            .filter(establishment__siren__in=sirens)
            .values("user_id")
        ).order_by("last_name", "first_name", "pk")[:limit]
    )
    found = {user.pk: user for user in declared + habilitated}
    return sorted(found.values(), key=lambda u: (u.last_name.lower(), u.first_name.lower(), u.pk))[
        :limit
    ]
