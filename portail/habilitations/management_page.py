"""The gestionnaire's management page, read: what `templates/habilitations/manage.html` shows.

`ManagementPage.build(demarche, establishments, roles, params, ...)` makes every read of the page
but the démarche's and the scope's, which the view reads (`invitation_scope.managed_scope`); its
query count is pinned by tests/habilitations/test_page_queries.py. The view renders
`page.context()`. The page's three tabs: the people (grouped by role, paged role after role), the
delegations, the open invitations and pending access requests; the establishments
("Caractéristiques"); the history of the messages, with the personal links masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from portail.companies.models import Establishment
from portail.demarches.models import Demarche, Role
from portail.habilitations import management_lists, pagination, people_rows, people_table
from portail.habilitations.access_review import ReviewSummary, summary
from portail.habilitations.models import AccessRequest, Habilitation, Invitation
from portail.habilitations.queries import people_of
from portail.notifications.models import OutboxEmail

PAGE_SIZE = 20
LIST_CAP = 100
# Invitation links are personal: the history shows the message without them.
INVITATION_LINK = re.compile(r"https?://\S*/habilitations/invitations/[A-Za-z0-9_-]+/?")
MASKED_LINK = "[lien personnel masqué]"
# The lists' paginations, as screen readers name them.
PEOPLE_PAGES = "Pagination des personnes habilitées"
DELEGATION_PAGES = "Pagination des habilitations déléguées"
EMAIL_PAGES = "Pagination de l’historique des messages"
TABS = {
    "personnes": "Personnes habilitées pour mon entreprise",
    "caracteristiques": "Caractéristiques",
    "messages": "Historique des messages",
}

# The columns the page's lists show (templates/habilitations/manage.html).
HABILITATION_FIELDS = (
    "role_id",
    "origin",
    "granted_at",
    "ends_at",
    "user__first_name",
    "user__last_name",
    "user__email",
    "establishment__siret",
    "establishment__name",
    "granted_by__first_name",
    "granted_by__last_name",
    "granted_by__email",
)
INVITATION_FIELDS = (
    "role_id",
    "kind",
    "email",
    "last_sent_at",
    "expires_at",
    "invited_user__first_name",
    "invited_user__last_name",
    "invited_user__email",
    "establishment__siret",
    "establishment__name",
    "sent_by__first_name",
    "sent_by__last_name",
    "sent_by__email",
)
ACCESS_REQUEST_FIELDS = (
    "role_id",
    "message",
    "created_at",
    "requester__first_name",
    "requester__last_name",
    "requester__email",
    "establishment__siret",
    "establishment__name",
)

_Row = TypeVar("_Row", Habilitation, Invitation, AccessRequest)
_Linked = TypeVar("_Linked", Habilitation, people_rows.PersonRow)  # a row with its addresses


def people_label(count: int) -> str:
    return f"{count} Personne" if count <= 1 else f"{count} Personnes"


def masked_body(body_text: str) -> str:
    """An email's text without the personal invitation links."""
    return INVITATION_LINK.sub(MASKED_LINK, body_text)


def shown(rows: QuerySet[_Row], roles: Iterable[Role], fields: tuple[str, ...]) -> list[_Row]:
    """`rows` with the columns `fields` that a list of the page shows, and nothing more (a fifth
    of the columns of a plain select_related); their roles from `roles`, the démarche's, already
    read, rather than a join."""
    by_id = {role.pk: role for role in roles}
    related = sorted({field.split("__")[0] for field in fields if "__" in field})
    rows_shown = list(rows.select_related(*related).only(*fields))
    for row in rows_shown:
        row.role = by_id[row.role_id]
    return rows_shown


def page_links(params: QueryDict, page_obj: Page[Any], param: str, label: str) -> dict[str, Any]:
    """Previous/next and numbered links of one paginated list, keeping the other parameters,
    and its navigation written (`nav`, named `label` for screen readers)."""
    found = _links(params, page_obj, param)
    return found | {"nav": pagination.nav(found, label)}


def _links(params: QueryDict, page_obj: Page[Any], param: str) -> dict[str, Any]:

    def url(number: int) -> str:
        query = params.copy()
        query[param] = str(number)
        return "?" + query.urlencode()

    paginator = page_obj.paginator
    if paginator.num_pages <= 1:  # the pagination shows nothing: no address to make
        return {"page": page_obj, "links": [], "previous": "", "next": "", "label": param}
    numbers = [
        n
        for n in paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
        if isinstance(n, int)
    ]
    return {
        "page": page_obj,
        "links": [(n, url(n), n == page_obj.number) for n in numbers],
        "previous": url(page_obj.previous_page_number()) if page_obj.has_previous() else "",
        "next": url(page_obj.next_page_number()) if page_obj.has_next() else "",
        "label": param,
    }


def _first_of(
    rows: QuerySet[_Row], order: str, roles: list[Role], fields: tuple[str, ...]
) -> list[_Row]:
    """The first `LIST_CAP` of `rows` in `order`, `shown`."""
    return shown(rows.order_by(order)[:LIST_CAP], roles, fields)


def _of_scope(demarche: Demarche, scope_ids: list[int]) -> Q:
    """The rows of `demarche` on the establishments `scope_ids`."""
    return Q(demarche=demarche, establishment_id__in=scope_ids)


def _row_urls(demarche: Demarche, rows: list[_Linked]) -> list[_Linked]:
    """Each row's "Changer le rôle" and "Révoquer" addresses, from one `reverse()` each per page
    rather than two `{% url %}` per row (each row's a new key of the tag's cache)."""
    marker = 987654321987654321  # a number no démarche code holds
    for attribute, name in (("change_role_url", "change_role"), ("revoke_url", "revoke")):
        before, after = reverse(f"habilitations:{name}", args=[demarche.code, marker]).split(
            str(marker)
        )
        for row in rows:
            setattr(row, attribute, f"{before}{row.pk}{after}")
    return rows


def _optional_url(name: str, *args: object) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@dataclass
class ManagementPage:
    """Everything the management page shows of `demarche` on the establishments `scope_ids`."""

    demarche: Demarche
    scope_ids: list[int]
    params: QueryDict
    tab: str
    filter_text: str
    filter_siret: str
    roles: list[Role]
    groups: list[dict[str, Any]]
    page_groups: list[dict[str, Any]]
    people_page: Page[Any]
    delegations_page: Page[Any]
    invitations: list[Invitation]
    access_requests: list[AccessRequest]
    establishments: list[Establishment]
    emails_page: Page[Any]
    now: datetime
    reviews: ReviewSummary | None  # None for a démarche without periodic access review

    @classmethod
    def build(
        cls,
        demarche: Demarche,
        establishments: Sequence[Establishment],
        roles: Sequence[Role],
        params: QueryDict,
        *,
        filter_text: str = "",
        filter_siret: str = "",
    ) -> ManagementPage:
        """Read the page of `demarche` (with its `roles`, in their order) on the `establishments`
        managed (by SIRET, with their SIRET, name, commune and whether open: the search's list,
        the SIRET searched, the invitation form's; `invitation_scope.managed_scope` reads both);
        `filter_text`/`filter_siret`: the validated search of the people."""
        establishments, roles = list(establishments), list(roles)
        scope_ids = [e.pk for e in establishments]
        tab = params.get("onglet", "personnes")
        if tab not in TABS:
            tab = "personnes"
        searched = (
            [e.pk for e in establishments if e.siret == filter_siret] if filter_siret else scope_ids
        )
        search = people_rows.Search(demarche.pk, searched, filter_text)
        counts = people_rows.counts(search, [role.pk for role in roles])
        lists = management_lists.lists_of(demarche.pk, scope_ids)  # which of the others to read
        groups = _groups(roles, counts)
        people_page, page_groups = _people_page(search, roles, groups, counts, params)
        _row_urls(demarche, list(people_page.object_list))
        return cls(
            demarche=demarche,
            scope_ids=scope_ids,
            params=params,
            tab=tab,
            filter_text=filter_text,
            filter_siret=filter_siret,
            roles=roles,
            groups=groups,
            page_groups=page_groups,
            people_page=people_page,
            delegations_page=_delegations_page(demarche, search, counts.delegations, roles, params),
            invitations=_first_of(
                Invitation.objects.open().filter(_of_scope(demarche, scope_ids)),
                "-sent_at",
                roles,
                INVITATION_FIELDS,
            )
            if lists.invitations
            else [],
            access_requests=_access_requests(demarche, scope_ids, roles)
            if lists.access_requests
            else [],
            establishments=establishments,
            emails_page=_emails_page(demarche, scope_ids, lists.emails, params),
            now=timezone.now(),
            reviews=_reviews(demarche, scope_ids, lists.reviews),
        )

    @property
    def active_establishments(self) -> list[Establishment]:
        """The establishments an invitation may name (the invitation form's, in its order)."""
        return [e for e in self.establishments if e.is_active]

    def context(self) -> dict[str, Any]:
        """The template's variables (the invitation modal's are added by the view)."""
        return {
            "title": f"{self.demarche.short_label} — {self.demarche.service_type}",
            "demarche": self.demarche,
            "tab": self.tab,
            "tabs": TABS,
            "filter_text": self.filter_text,
            "filter_siret": self.filter_siret,
            "groups": self.groups,
            "page_groups": self.page_groups,
            "people_tables": people_table.tables(self.page_groups),
            "people": page_links(self.params, self.people_page, "page", PEOPLE_PAGES),
            "delegations": page_links(
                self.params, self.delegations_page, "dpage", DELEGATION_PAGES
            ),
            "invitations": self.invitations,
            "access_requests": self.access_requests,
            "roles": self.roles,
            "establishments": self.establishments[: LIST_CAP * 2],
            "emails": page_links(self.params, self.emails_page, "mpage", EMAIL_PAGES),
            "now": self.now,
            "reviews": self.reviews,
        }


# The delegations' order after their end: the people's (role after role, the most recent first).
ORDER = ("role__order", "role__label", "-granted_at", "-pk")


class _Listed:
    """A list of `total` items whose slices `read(start, stop)` reads: all a Paginator needs,
    given the total already counted (no COUNT query)."""

    def __init__(self, total: int, read: Callable[[int, int], list[Any]]) -> None:
        self.total = total
        self.read = read

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, window: slice) -> list[Any]:
        return self.read(window.start, window.stop) if self.total else []


def _paged(listed: _Listed, number: str | None) -> Page[Any]:
    # _Listed slices like a list, which is all Paginator needs (not the stubs' protocol).
    page: Page[Any] = Paginator(listed, PAGE_SIZE).get_page(number)  # type: ignore[arg-type]
    page.object_list = list(page.object_list)
    return page


def _groups(roles: list[Role], counts: people_rows.TabCounts) -> list[dict[str, Any]]:
    """One group per role with its count of persons."""
    return [
        {
            "role": role,
            "count": counts.persons.get(role.pk, 0),
            "label": people_label(counts.persons.get(role.pk, 0)),
        }
        for role in roles
    ]


def _people_page(
    search: people_rows.Search,
    roles: list[Role],
    groups: list[dict[str, Any]],
    counts: people_rows.TabCounts,
    params: QueryDict,
) -> tuple[Page[Any], list[dict[str, Any]]]:
    """The page of people asked for (one statement: `people_rows.page`), and its rows grouped
    by role."""
    people_page = _paged(
        _Listed(
            sum(counts.rows.values()),
            lambda start, stop: people_rows.page(search, roles, counts.rows, start, stop),
        ),
        params.get("page"),
    )
    labels = {group["role"].pk: group["label"] for group in groups}
    page_groups: list[dict[str, Any]] = []
    for habilitation in people_page.object_list:
        if not page_groups or page_groups[-1]["role"].pk != habilitation.role_id:
            page_groups.append(
                {
                    "role": habilitation.role,
                    "label": labels.get(habilitation.role_id, ""),
                    "rows": [],
                }
            )
        page_groups[-1]["rows"].append(habilitation)
    return people_page, page_groups


def _delegations_page(
    demarche: Demarche,
    search: people_rows.Search,
    total: int,
    roles: list[Role],
    params: QueryDict,
) -> Page[Any]:
    """The page of delegations asked for, through the ORM, built and read only when there are
    some (the counts said how many; compiling it costs 4 ms)."""

    def read(start: int, stop: int) -> list[Habilitation]:
        ordered = (
            people_of(search.demarche_id, search.establishment_ids, text=search.text)
            .filter(origin=Habilitation.Origin.DELEGATION)
            .order_by("ends_at", *ORDER)
        )
        return _row_urls(demarche, shown(ordered[start:stop], roles, HABILITATION_FIELDS))

    return _paged(_Listed(total, read), params.get("dpage"))


def _access_requests(
    demarche: Demarche, scope_ids: list[int], roles: list[Role]
) -> list[AccessRequest]:
    """The pending access requests, each with the URLs of its answers."""
    pending = AccessRequest.objects.pending().filter(_of_scope(demarche, scope_ids))
    access_requests = _first_of(pending, "created_at", roles, ACCESS_REQUEST_FIELDS)
    for access_request in access_requests:
        access_request.accept_url = _optional_url(
            "demarches:access_request_accept", access_request.pk
        )
        access_request.refuse_url = _optional_url(
            "demarches:access_request_refuse", access_request.pk
        )
    return access_requests


def _emails_page(
    demarche: Demarche, scope_ids: list[int], total: int, params: QueryDict
) -> Page[Any]:
    """The "Historique des messages" page, each email's text without its personal links;
    `total`, how many there are (`management_lists`)."""

    def read(start: int, stop: int) -> list[OutboxEmail]:
        # Built only when there are some (`_Listed` reads nothing of an empty list).
        emails = (
            OutboxEmail.objects.about(demarche.pk, scope_ids)
            .only("created_at", "recipient", "subject", "status", "sent_at", "body_text")
            .order_by("-created_at", "-id")
        )
        return list(emails[start:stop])

    page = _paged(_Listed(total, read), params.get("mpage"))
    for email in page.object_list:
        email.display_body = masked_body(email.body_text)
    return page


def _reviews(demarche: Demarche, scope_ids: list[int], any_review: bool) -> ReviewSummary | None:
    """What the page says of the periodic access reviews (None: the démarche has none);
    read only when `management_lists` found some."""
    if not demarche.access_review_months:
        return None
    return summary(demarche, scope_ids) if any_review else ReviewSummary([], None, [])
