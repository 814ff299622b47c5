"""The gestionnaire's management page, read: what `templates/habilitations/manage.html` shows.

`ManagementPage.build(demarche, scope_ids, params, ...)` makes every read of the page (its
query count is pinned by tests/habilitations/test_views.py); the view only finds the scope and
renders `page.context()`. The page's three tabs: the people (grouped by role, paged role after
role), the delegations, the open invitations and pending access requests; the establishments
("Caractéristiques"); the history of the messages, with the personal links masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from portail.companies.models import Establishment
from portail.demarches.models import Demarche, Role
from portail.habilitations.access_review import ReviewSummary, summary
from portail.habilitations.models import AccessRequest, Habilitation, Invitation
from portail.habilitations.queries import PeopleByRole, name_filter
from portail.notifications.models import OutboxEmail

PAGE_SIZE = 20
LIST_CAP = 100
# Invitation links are personal: the history shows the message without them.
INVITATION_LINK = re.compile(r"https?://\S*/habilitations/invitations/[A-Za-z0-9_-]+/?")
MASKED_LINK = "[lien personnel masqué]"
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


def page_links(params: QueryDict, page_obj: Page[Any], param: str) -> dict[str, Any]:
    """Previous/next and numbered links of one paginated list, keeping the other parameters."""

    def url(number: int) -> str:
        query = params.copy()
        query[param] = str(number)
        return "?" + query.urlencode()

    paginator = page_obj.paginator
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
        scope_ids: Sequence[int],
        params: QueryDict,
        *,
        filter_text: str = "",
        filter_siret: str = "",
    ) -> ManagementPage:
        """Read the page; `filter_text`/`filter_siret`: the validated search of the people."""
        scope_ids = list(scope_ids)
        tab = params.get("onglet", "personnes")
        if tab not in TABS:
            tab = "personnes"
        live = Habilitation.objects.active().filter(
            demarche=demarche, establishment_id__in=scope_ids
        )
        if filter_siret:
            live = live.filter(establishment__siret=filter_siret)
        if filter_text:
            live = live.filter(
                name_filter(filter_text, "user__") | Q(user__email__istartswith=filter_text)
            )
        people = live.exclude(origin=Habilitation.Origin.DELEGATION)
        delegations = live.filter(origin=Habilitation.Origin.DELEGATION)
        roles = list(demarche.roles.all())
        groups, rows_per_role = _groups(people, roles)
        people_page, page_groups = _people_page(people, roles, groups, rows_per_role, params)
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
            delegations_page=_delegations_page(delegations, roles, params),
            invitations=_first_of(
                Invitation.objects.open().filter(_of_scope(demarche, scope_ids)),
                "-sent_at",
                roles,
                INVITATION_FIELDS,
            ),
            access_requests=_access_requests(demarche, scope_ids, roles),
            establishments=list(
                Establishment.objects.filter(pk__in=scope_ids)
                .order_by("siret")
                .only("siret", "name")[: LIST_CAP * 2]
            ),
            emails_page=_emails_page(demarche, scope_ids, params),
            now=timezone.now(),
            reviews=summary(demarche, scope_ids) if demarche.access_review_months else None,
        )

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
            "people": page_links(self.params, self.people_page, "page"),
            "delegations": page_links(self.params, self.delegations_page, "dpage"),
            "invitations": self.invitations,
            "access_requests": self.access_requests,
            "roles": self.roles,
            "establishments": self.establishments,
            "emails": page_links(self.params, self.emails_page, "mpage"),
            "now": self.now,
            "reviews": self.reviews,
        }


# Within a role, the most recent first: sorting a large company by name would join and sort
# every person for each page (the search by name narrows the list instead).
ORDER = ("role__order", "role__label", "-granted_at", "-pk")


def _groups(
    people: QuerySet[Habilitation], roles: list[Role]
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """One group per role with its count of persons; the rows per role (one query)."""
    stats = list(
        people.order_by()
        .values("role_id")
        .annotate(persons=Count("user_id", distinct=True), rows=Count("id"))
    )
    counts: dict[int, int] = {row["role_id"]: row["persons"] for row in stats}
    groups = [
        {
            "role": role,
            "count": counts.get(role.pk, 0),
            "label": people_label(counts.get(role.pk, 0)),
        }
        for role in roles
    ]
    return groups, {row["role_id"]: row["rows"] for row in stats}


def _people_page(
    people: QuerySet[Habilitation],
    roles: list[Role],
    groups: list[dict[str, Any]],
    rows_per_role: dict[int, int],
    params: QueryDict,
) -> tuple[Page[Any], list[dict[str, Any]]]:
    """The page of people asked for, and its rows grouped by role.

    Two steps: the page's ids, role after role, then those rows with their relations (joining
    first would make PostgreSQL fetch every person of the company before the sort). Its total
    comes from the grouped counts: no COUNT query.
    """
    # PeopleByRole slices like a list, which is all Paginator needs (not the stubs' protocol).
    people_page = Paginator(PeopleByRole(people, roles, rows_per_role), PAGE_SIZE).get_page(  # type: ignore[arg-type,var-annotated]
        params.get("page")
    )
    page_ids = list(people_page.object_list)
    page_rows = Habilitation.objects.filter(pk__in=page_ids)
    rows = {row.pk: row for row in shown(page_rows, roles, HABILITATION_FIELDS)}
    people_page.object_list = [rows[pk] for pk in page_ids]
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
    delegations: QuerySet[Habilitation], roles: list[Role], params: QueryDict
) -> Page[Any]:
    page: Page[Any] = Paginator(delegations.order_by("ends_at", *ORDER), PAGE_SIZE).get_page(
        params.get("dpage")
    )
    # Evaluated here, and not at all when there is none (compiling it costs 4 ms).
    page.object_list = (
        shown(page.object_list, roles, HABILITATION_FIELDS)  # type: ignore[arg-type]  # a page of a QuerySet is a QuerySet
        if page.paginator.count
        else []
    )
    return page


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


def _emails_page(demarche: Demarche, scope_ids: list[int], params: QueryDict) -> Page[Any]:
    """The "Historique des messages" page, each email's text without its personal links."""
    page: Page[Any] = Paginator(
        OutboxEmail.objects.about(demarche.pk, scope_ids)
        .only("created_at", "recipient", "subject", "status", "sent_at", "body_text")
        .order_by("-created_at", "-id"),
        PAGE_SIZE,
    ).get_page(params.get("mpage"))
    for email in page.object_list:
        email.display_body = masked_body(email.body_text)
    return page
