"""The feed of habilitation changes a démarche follows (read by `portail.oidc.feed_views`,
pushed by `portail.oidc.webhooks`).

`record_change` is called by the primitives of `grants.py` inside the change's transaction: every
path (gestionnaire, agent, activation, invitation, closing an account, the chores) goes through
them, so none is missed. The number comes from the démarche's `HabilitationFeed` row, locked
until commit (docs/decisions/0019).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portail.companies.models import Establishment
from portail.demarches.models import Demarche
from portail.habilitations.models import Habilitation, HabilitationChange, HabilitationFeed

if TYPE_CHECKING:
    from portail.accounts.models import User

Kind = HabilitationChange.Kind


def live_role_codes(user: "User", demarche: Demarche, establishment: Establishment) -> list[str]:
    return sorted(
        Habilitation.objects.active()
        .filter(user=user, demarche=demarche, establishment=establishment)
        .values_list("role__code", flat=True)
    )


def next_sequence(demarche: Demarche) -> int:
    """Lock the démarche's feed row and take its next number (the lock lasts until commit)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_sequence must run inside the change's transaction")
    feed, _ = HabilitationFeed.objects.select_for_update().get_or_create(demarche=demarche)
    HabilitationFeed.objects.filter(pk=feed.pk).update(last_sequence=F("last_sequence") + 1)
    return feed.last_sequence + 1


def lock_feeds(demarche_ids: Iterable[int]) -> None:
    """Take the feed rows of several démarches now, in the order of their ids: a change that
    touches several démarches (an account closed) then waits for another such change instead of
    each holding the row the other wants (a deadlock)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_feeds must run inside the change's transaction")
    ids = sorted(set(demarche_ids))
    for demarche_id in ids:
        HabilitationFeed.objects.get_or_create(demarche_id=demarche_id)
    list(
        HabilitationFeed.objects.select_for_update()
        .filter(demarche_id__in=ids)
        .order_by("demarche_id")
        .values_list("pk", flat=True)
    )


def record_change(
    habilitation: Habilitation,
    *,
    added: str = "",
    removed: str = "",
    kind: str = "",
    occurred_at: datetime | None = None,
) -> HabilitationChange:
    """The event of `habilitation`'s person on its establishment, once `added` was granted or
    `removed` ended. The kind, unless given, follows from the roles before and after."""
    after = live_role_codes(habilitation.user, habilitation.demarche, habilitation.establishment)
    before = set(after) - {added}
    if removed:
        before.add(removed)
    if not kind:
        kind = Kind.GRANTED if not before else Kind.REVOKED if not after else Kind.ROLE_CHANGED
    return HabilitationChange.objects.create(
        demarche=habilitation.demarche,
        sequence=next_sequence(habilitation.demarche),
        kind=kind,
        user=habilitation.user,
        siret=habilitation.establishment.siret,
        roles_before=sorted(before),
        roles_after=after,
        occurred_at=occurred_at or timezone.now(),
    )


def record_establishment_closed(demarche: Demarche, establishment: Establishment) -> int:
    """One event per person holding a role there: the establishment ended for the démarche.
    The habilitations themselves stay (the closure stops new codes, not the history)."""
    holders: dict[int, User] = {
        h.user_id: h.user
        for h in Habilitation.objects.active()
        .filter(demarche=demarche, establishment=establishment)
        .select_related("user")
        .order_by("user_id")
    }
    for user in holders.values():
        roles = live_role_codes(user, demarche, establishment)
        HabilitationChange.objects.create(
            demarche=demarche,
            sequence=next_sequence(demarche),
            kind=Kind.ESTABLISHMENT_CLOSED,
            user=user,
            siret=establishment.siret,
            roles_before=roles,
            roles_after=roles,
        )
    return len(holders)
