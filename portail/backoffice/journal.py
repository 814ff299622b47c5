"""The agents' journal: the events an agent may see, their filters, and their CSV export.

A national agent sees every event; a regional agent the events of the establishments of their
regions' centres and of those centres' sites liés (as the rest of the back-office). Filters narrow
that, never widen it. The export streams the filtered events chunk by chunk: a large journal never
sits in memory, and it stops at `EXPORT_MAX_ROWS` events.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from portail.audit.labels import FORMER_SUPPORT_ACTIONS
from portail.audit.models import AuditEvent
from portail.backoffice.models import AgentProfile
from portail.centres.models import Centre, LinkedSite, Region
from portail.companies.models import Establishment
from portail.habilitations.models import Habilitation

CSV_HEADER = [
    "Date",
    "Qui",
    "Action",
    "Assistance",
    "Objet",
    "SIRET",
    "Motif",
]
CHUNK = 2000
# The export streams, but a web worker that has not answered within its timeout (gunicorn: 30 s)
# is killed mid-file: the most recent events up to this bound, about 13 s on the loaded 2-core
# machine of bench/journal.py (its figures: docs/backoffice.md). The page says when it applies.
EXPORT_MAX_ROWS = 50_000


def _establishments_of(centres: QuerySet[Centre]) -> Q:
    """Events about the establishments of `centres` and of their sites liés (subqueries)."""
    return Q(establishment_id__in=centres.values("establishment_id")) | Q(
        establishment_id__in=LinkedSite.objects.filter(
            centre__in=centres, establishment__isnull=False
        ).values("establishment_id")
    )


def visible_events(agent: AgentProfile) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if not agent.is_national:
        events = events.filter(_establishments_of(Centre.objects.visible_to(agent)))
    return events


def about_account(user_ids: list[int], email: str = "") -> Q:
    """Events by these accounts, about them, or about their habilitations; and, when no account
    has that email any more (deleted), the events its email still names as actor."""
    from_habilitations = [
        str(pk)
        for pk in Habilitation.objects.filter(user_id__in=user_ids).values_list("pk", flat=True)
    ]
    query = (
        Q(actor_id__in=user_ids)
        | Q(target_type="accounts.user", target_id__in=[str(pk) for pk in user_ids])
        | Q(target_type="habilitations.habilitation", target_id__in=from_habilitations)
    )
    if email and not user_ids:
        # Only for an account since deleted: a case-insensitive match on a text column reads
        # the whole journal, while the clauses above use its indexes.
        query |= Q(actor_label__iexact=email)
    return query


def filtered_events(agent: AgentProfile, filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """The events `agent` may see that match the cleaned `JournalFilterForm` data, newest first."""
    events = visible_events(agent)
    if filters.get("date_from"):
        events = events.filter(at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        events = events.filter(at__lt=_start_of(filters["date_to"] + timedelta(days=1)))
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    if filters.get("support"):
        events = events.filter(Q(data__support=True) | Q(action__in=FORMER_SUPPORT_ACTIONS))
    region: Region | None = filters.get("region")
    if region is not None:
        events = events.filter(_establishments_of(Centre.objects.filter(region=region)))
    siret: str = filters.get("siret") or ""
    if siret:
        field = "siret" if len(siret) == 14 else "siren"
        events = events.filter(
            establishment_id__in=Establishment.objects.filter(**{field: siret}).values("pk")
        )
    email: str = filters.get("account") or ""
    if email:
        user_ids = list(
            get_user_model().objects.filter(email__iexact=email).values_list("pk", flat=True)
        )
        events = events.filter(about_account(user_ids, email))
    return events.order_by("-at", "-id")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def with_details(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The events, each with `siret` (of its establishment, or "", in one query) and `reason`
    (the agent's or gestionnaire's, or "")."""
    events = list(events)
    ids = {e.establishment_id for e in events if e.establishment_id is not None}
    sirets: dict[int | None, str] = dict(
        Establishment.objects.filter(pk__in=ids).values_list("pk", "siret")
    )
    for event in events:
        event.siret = sirets.get(event.establishment_id, "")  # type: ignore[attr-defined]
        reason = event.data.get("reason", "") if isinstance(event.data, dict) else ""
        event.reason = str(reason)  # type: ignore[attr-defined]
    return events


def _text(value: str) -> str:
    """A typed text as a spreadsheet shows it, never as a formula (a reason "=HYPERLINK(…)")."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _row(event: AuditEvent) -> list[str]:
    return [
        timezone.localtime(event.at).strftime("%d/%m/%Y %H:%M:%S"),
        _text(event.actor_label),
        event.action_label,
        "oui" if event.by_support else "non",
        _text(event.target_label),
        event.siret,  # type: ignore[attr-defined]  # set by with_details
        _text(event.reason),  # type: ignore[attr-defined]
    ]


class CappedPaginator(Paginator):  # type: ignore[type-arg]  # not subscriptable at run time
    """Counts at most `EXPORT_MAX_ROWS` + 1 events: a count of millions of rows would cost the
    page seconds, and past that bound the page says "plus de 50 000" (the export's own bound)."""

    @cached_property
    def count(self) -> int:
        events = cast("QuerySet[AuditEvent]", self.object_list)
        return events[: EXPORT_MAX_ROWS + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > EXPORT_MAX_ROWS


def csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    """The rows of the export (the `EXPORT_MAX_ROWS` most recent), read `CHUNK` at a time."""
    chunk: list[AuditEvent] = []
    for event in events[:EXPORT_MAX_ROWS].iterator(chunk_size=CHUNK):
        chunk.append(event)
        if len(chunk) == CHUNK:
            yield from map(_row, with_details(chunk))
            chunk = []
    yield from map(_row, with_details(chunk))
