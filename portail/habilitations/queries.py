"""Read-side helpers: what other apps show of habilitations, and the colleague search."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from portail.habilitations.models import Invitation
from portail.habilitations.scope import managed_siren_list, managed_sirens

AUTOCOMPLETE_LIMIT = 10
MIN_SEARCH_LENGTH = 2


def pending_invitations_for(user):
    """Invitations waiting for `user` (sent to the account or to its email address)."""
    return (
        Invitation.objects.pending()
        .filter(Q(invited_user=user) | Q(invited_user__isnull=True, email__iexact=user.email))
        .select_related("demarche", "establishment", "role", "sent_by")
    )


def colleague_accounts(actor, demarche) -> QuerySet:
    """The portal accounts a gestionnaire may invite as colleagues: those declared at sign-up
    with the SIREN of the company (a SIRET of one of its establishments).

    Anyone else (a third party, or a person of the company who signed up with another SIRET) is
    invited by email, by "Inviter un utilisateur" or "Déléguer une habilitation à un tiers".
    """
    return (
        get_user_model()
        .objects.filter(is_active=True, declared_siren__in=managed_sirens(actor, demarche))
        .exclude(account_type="particulier")
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
    """The autocomplete: `colleague_accounts` whose name starts with `text`, in one query on an
    index range whatever the size of the company (and accounts/migrations/0003 on PostgreSQL).
    """
    text = " ".join(text.split())
    if len(text) < MIN_SEARCH_LENGTH:
        return []
    if sirens is None:
        sirens = managed_siren_list(actor, demarche)
    if not sirens:
        return []
    return list(
        get_user_model()
        .objects.filter(is_active=True, declared_siren__in=sirens)
        .exclude(account_type="particulier")
        .filter(name_filter(text))
        .order_by("last_name", "first_name", "pk")
        .only("public_id", "email", "first_name", "last_name")[:limit]
    )
