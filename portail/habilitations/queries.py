"""Read-side helpers: the catalogue as a person sees it ("Mes démarches"), who manages an
establishment (access requests), the colleague search."""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from portail.centres.perimeter import sirens_covering
from portail.companies.models import Establishment
from portail.demarches.models import Demarche, Role
from portail.habilitations.models import (
    Habilitation,
    HabilitationQuerySet,
    Invitation,
    InvitationQuerySet,
)
from portail.habilitations.scope import managed_siren_list, managed_sirens

if TYPE_CHECKING:
    from portail.accounts.models import User

AUTOCOMPLETE_LIMIT = 10
MIN_SEARCH_LENGTH = 2
NAME_WORDS = 4  # the words of a search by name that count


class Suspension(NamedTuple):
    """A suspended habilitation as "Mes démarches" shows it."""

    establishment_name: str
    role_label: str
    reason_label: str
    since: datetime


@dataclass(frozen=True)
class Catalogue:
    # démarches the user holds a live habilitation of; `.manages` set on each,
    # `.delegation_ends_at` when a live delegation ends (the soonest end), else None, and
    # `.suspensions`: the suspended habilitations, shown with their reason
    held: Sequence[Demarche]
    others: Sequence[Demarche]  # the other active démarches
    # Equal keys, equal other démarches as the page shows them: "Les autres démarches" is
    # rendered once per process under it (mes_demarches_views), its démarches read only then.
    others_key: Hashable
    # Each held démarche's `held_tile_key`: its tile is kept under it (mes_demarches_views), the
    # démarche read only when the tile is not.
    held_keys: Sequence[Hashable]


# What a held démarche's tile shows (_held_tile.html), besides `manages`, `delegation_ends_at`
# and `suspensions`.
HELD_TILE_FIELDS = ("code", "url", "long_name", "short_label", "service_type")


def held_tile_key(
    shown: Sequence[object],
    manages: bool,
    delegation_ends_at: datetime | None,
    suspensions: Iterable[Suspension],
) -> tuple[object, ...]:
    """Every value a held démarche's tile reads (its dates as they are: the page's time zone is
    the settings'); `shown`: its HELD_TILE_FIELDS' values."""
    return (*shown, manages, delegation_ends_at, tuple(suspensions))


def others_key(others: Iterable[Demarche]) -> tuple[tuple[object, ...], ...]:
    """Every value "Les autres démarches" shows of each démarche."""
    return tuple(
        (
            d.code,
            d.long_name,
            d.short_label,
            d.service_type,
            d.description,
            d.professional_only,
            d.accepts_activation_codes,
        )
        for d in others
    )


def catalogue_for(user: "User") -> Catalogue:
    """The active démarches split into held / others, in two plain queries whatever their number,
    said with the ORM: "Mes démarches" reads the same in one hand-written statement
    (`portail.habilitations.catalogue`), which its test compares with this."""
    held_ids: set[int] = set()
    managed_ids: set[int] = set()
    delegation_ends: dict[int, datetime] = {}
    suspensions: dict[int, list[Suspension]] = {}
    live = Habilitation.objects.live().filter(user=user).order_by("establishment__siret")
    for (
        demarche_id,
        can_manage,
        origin,
        ends_at,
        suspended_at,
        reason,
        establishment_name,
        role_label,
    ) in live.values_list(
        "demarche_id",
        "role__can_manage",
        "origin",
        "ends_at",
        "suspended_at",
        "suspension_reason",
        "establishment__name",
        "role__label",
    ):
        held_ids.add(demarche_id)
        if suspended_at is not None:  # shown with its reason; gives no access
            suspensions.setdefault(demarche_id, []).append(
                Suspension(
                    establishment_name,
                    role_label,
                    Habilitation.Suspension(reason).label if reason else "",
                    suspended_at,
                )
            )
            continue
        if can_manage:
            managed_ids.add(demarche_id)
        if origin == Habilitation.Origin.DELEGATION and ends_at is not None:
            soonest = delegation_ends.get(demarche_id)
            delegation_ends[demarche_id] = ends_at if soonest is None else min(soonest, ends_at)
    held: list[Demarche] = []
    others: list[Demarche] = []
    for demarche in Demarche.objects.filter(is_active=True):
        # What the page reads of each, as the annotations of a query would set it.
        vars(demarche).update(
            held=demarche.pk in held_ids,
            manages=demarche.pk in managed_ids,
            delegation_ends_at=delegation_ends.get(demarche.pk),
            suspensions=suspensions.get(demarche.pk, []),
        )
        (held if demarche.pk in held_ids else others).append(demarche)
    keys = [
        held_tile_key(
            [getattr(d, name) for name in HELD_TILE_FIELDS],
            vars(d)["manages"],
            vars(d)["delegation_ends_at"],
            vars(d)["suspensions"],
        )
        for d in held
    ]
    return Catalogue(held=held, others=others, others_key=others_key(others), held_keys=keys)


def gestionnaire_demarche_ids(user: "User") -> set[int]:
    """Ids of the démarches `user` manages somewhere (one query)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Habilitation.objects.active()
        .managing()
        .filter(user=user)
        .values_list("demarche_id", flat=True)
        .distinct()
    )


def managing_habilitations(demarche: Demarche) -> HabilitationQuerySet:
    """Every live managing habilitation of `demarche` (whoever holds it; for one person's, see
    `portail.habilitations.scope.managing_habilitations`)."""
    return Habilitation.objects.active().filter(demarche=demarche, role__can_manage=True)


def managing_habilitations_over(
    demarche: Demarche, establishment: Establishment
) -> HabilitationQuerySet:
    """Live managing habilitations of `demarche` whose holder may act on `establishment`.

    The converse of the perimeter rule (`portail.centres.perimeter`), which
    `portail.habilitations.scope` applies the other way: a gestionnaire manages the
    establishments of the SIREN where they hold the role, and the sites liés of a centre agréé
    of that SIREN.
    """
    return managing_habilitations(demarche).filter(
        sirens_covering(establishment, "establishment__siren")
    )


def gestionnaires_of(demarche: Demarche, establishment: Establishment) -> "QuerySet[User]":
    """The active accounts that manage `demarche` for `establishment` (for access requests)."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(
        pk__in=managing_habilitations_over(demarche, establishment).values("user_id")
    ).order_by("pk")


def pending_invitations_for(user: "User") -> InvitationQuerySet:
    """Invitations waiting for `user` (sent to the account or to its email address)."""
    return (
        Invitation.objects.pending()
        .filter(Q(invited_user=user) | Q(invited_user__isnull=True, email__iexact=user.email))
        .select_related("demarche", "establishment", "role", "sent_by")
    )


def colleague_accounts(actor: "User", demarche: Demarche | str) -> "QuerySet[User]":
    """The portal accounts a gestionnaire may invite as colleagues: those declared at sign-up
    with the SIREN of the company (a SIRET of one of its establishments).

    Anyone else (a third party, or a person of the company who signed up with another SIRET) is
    invited by email, by "Inviter un utilisateur" or "Déléguer une habilitation à un tiers".
    """
    return _accounts_declared_with(managed_sirens(actor, demarche))


def _accounts_declared_with(
    sirens: Iterable[str] | QuerySet[Habilitation, str],
) -> "QuerySet[User]":
    """Active professional accounts declared at sign-up with one of `sirens` (a list or a
    values query)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, declared_siren__in=sirens)
        .exclude(account_type="particulier")
    )


def name_filter(text: str, prefix: str = "") -> Q:
    """Each word typed starts the first or the last name (any case)."""
    condition = Q()
    for word in text.split()[:NAME_WORDS]:
        condition &= Q(**{f"{prefix}last_name__istartswith": word}) | Q(
            **{f"{prefix}first_name__istartswith": word}
        )
    return condition


def search_colleagues(
    actor: "User",
    demarche: Demarche | str,
    text: str,
    limit: int = AUTOCOMPLETE_LIMIT,
    *,
    sirens: Sequence[str] | None = None,
) -> "list[User]":
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
        _accounts_declared_with(sirens)
        .filter(name_filter(text))
        .order_by("last_name", "first_name", "pk")
        .only("public_id", "email", "first_name", "last_name")[:limit]
    )


def people_of(
    demarche: Demarche | int, scope_ids: Sequence[int], *, siret: str = "", text: str = ""
) -> HabilitationQuerySet:
    """The live habilitations the management page lists (delegations included), searched by
    SIRET and by name or address: said with the ORM, as `people_rows` reads it in plain SQL."""
    live = Habilitation.objects.active().filter(demarche=demarche, establishment_id__in=scope_ids)
    if siret:
        live = live.filter(establishment__siret=siret)
    if text:
        live = live.filter(name_filter(text, "user__") | Q(user__email__istartswith=text))
    return live


def people_counts(people: QuerySet[Habilitation]) -> dict[int, tuple[int, int]]:
    """Per role of `people`: (the persons, the habilitations); the ORM's statement of
    `people_rows.counts`."""
    stats = (
        people.order_by()
        .values("role_id")
        .annotate(persons=Count("user_id", distinct=True), rows=Count("id"))
    )
    return {row["role_id"]: (row["persons"], row["rows"]) for row in stats}


class PeopleByRole:
    """The ids of the habilitations `people`, role after role (in the order of `roles`), the
    most recent first within a role: what the "Personnes habilitées" tab pages through.

    A page is sliced from one query per role it covers (usually one), each on the habilitations
    of that role alone: no join with the roles and no sort of the whole company to order them
    (on 5,000 people, 24 ms → 3 ms on PostgreSQL; bench/habilitations.py). `rows_per_role`
    comes from the tab's counts; a Paginator given its total slices this like a list.
    """

    def __init__(
        self, people: QuerySet[Habilitation], roles: Sequence[Role], rows_per_role: dict[int, int]
    ) -> None:
        self.people = people
        self.roles = roles
        self.rows_per_role = rows_per_role

    def __len__(self) -> int:
        return sum(self.rows_per_role.values())

    def __getitem__(self, window: slice) -> list[int]:
        ids: list[int] = []
        first = 0
        for role in self.roles:
            count = self.rows_per_role.get(role.pk, 0)
            start, stop = max(window.start, first), min(window.stop, first + count)
            if start < stop:
                of_role = self.people.filter(role=role).order_by("-granted_at", "-pk")
                ids += of_role.values_list("pk", flat=True)[start - first : stop - first]
            first += count
        return ids
