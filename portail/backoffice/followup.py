"""Follow-up of activation: per centre and per region, and their CSV exports (never a code)."""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from portail.backoffice.activation import ActivationStatus, status_of, with_activation
from portail.backoffice.models import AgentProfile, LetterBatch
from portail.centres.models import Centre, Region
from portail.demarches.models import ActivationCode, Demarche
from portail.habilitations.models import AccessReview, Habilitation


def with_current_code(queryset: QuerySet[Centre], demarche: Demarche) -> QuerySet[Centre]:
    """Annotate the latest code's dates (issued, expires, used, revoked) and its user's email."""
    latest = ActivationCode.objects.filter(
        demarche=demarche, siret=OuterRef("establishment__siret")
    ).order_by("-issued_at", "-pk")
    return queryset.annotate(
        code_issued_at=Subquery(latest.values("issued_at")[:1]),
        code_expires_at=Subquery(latest.values("expires_at")[:1]),
        code_used_at=Subquery(latest.values("used_at")[:1]),
        code_revoked_at=Subquery(latest.values("revoked_at")[:1]),
        code_used_by=Subquery(latest.values("used_by__email")[:1]),
    )


@dataclass
class CentreFollowup:
    codes: list[ActivationCode]
    people_per_role: list[dict[str, Any]]
    letters: list[Any]  # Letter rows


def centre_followup(centre: Centre, demarche: Demarche) -> CentreFollowup:
    codes = list(
        ActivationCode.objects.filter(demarche=demarche, siret=centre.establishment.siret)
        .select_related("used_by", "issued_by")
        .order_by("-issued_at", "-pk")[:10]
    )
    people = list(
        Habilitation.objects.active()
        .filter(demarche=demarche, establishment=centre.establishment)
        .values("role__label")
        .annotate(count=Count("user", distinct=True))
        .order_by("role__label")
    )
    letters = list(
        centre.letters.select_related("issued_by", "activation_code", "batch").order_by(
            "-issued_at", "-pk"
        )[:10]
    )
    return CentreFollowup(codes=codes, people_per_role=people, letters=letters)


def region_counts(agent: AgentProfile, demarche: Demarche) -> list[dict[str, Any]]:
    """Per visible region: centres approved (open), activated, pending, expired codes."""
    centres = with_activation(Centre.objects.open().visible_to(agent), demarche)
    rows = {
        row["region"]: row
        for row in centres.values("region").annotate(
            approved=Count("pk"),
            activated=Count("pk", filter=Q(is_activated=True)),
            pending=Count("pk", filter=Q(is_activated=False, has_pending_code=True)),
            expired=Count(
                "pk",
                filter=Q(is_activated=False, has_pending_code=False, has_expired_code=True),
            ),
        )
    }
    result: list[dict[str, Any]] = []
    for region in Region.objects.visible_to(agent).order_by("code"):
        row = rows.get(region.pk, {})
        result.append(
            {
                "region": region,
                "approved": row.get("approved", 0),
                "activated": row.get("activated", 0),
                "pending": row.get("pending", 0),
                "expired": row.get("expired", 0),
            }
        )
    return result


def _csv_response_text(header: list[str], rows: Iterable[list[Any]]) -> str:
    return "".join(csv_lines(header, rows))


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """The CSV text of every export (`;`, as Excel in French expects), one line at a time, so
    that a large one can be streamed."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in itertools.chain([header], rows):
        writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _dt(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def centres_csv(queryset: QuerySet[Centre], demarche: Demarche) -> str:
    # Any: the rows carry the annotations of with_activation and with_current_code.
    annotated: QuerySet[Any] = with_current_code(
        with_activation(queryset, demarche), demarche
    ).select_related("establishment", "region")
    header = [
        "SIRET",
        "Nom",
        "Commune",
        "Région",
        "Référence agrément",
        "Date agrément",
        "Statut",
        "Code émis le",
        "Code expire le",
        "Code utilisé le",
        "Code utilisé par",
        "Fermé le",
    ]
    rows = (
        [
            c.establishment.siret,
            c.letter_name,
            c.establishment.commune,
            c.region.name,
            c.agrement_reference,
            c.agrement_date.strftime("%d/%m/%Y") if c.agrement_date else "",
            ActivationStatus(status_of(c)).label,
            _dt(c.code_issued_at),
            _dt(c.code_expires_at),
            _dt(c.code_used_at),
            c.code_used_by or "",
            _dt(c.closed_at),
        ]
        for c in annotated.iterator(chunk_size=2000)
    )
    return _csv_response_text(header, rows)


def regions_csv(agent: AgentProfile, demarche: Demarche) -> str:
    header = ["Code région", "Région", "Centres agréés", "Activés", "En attente", "Codes expirés"]
    rows = (
        [
            r["region"].code,
            r["region"].name,
            r["approved"],
            r["activated"],
            r["pending"],
            r["expired"],
        ]
        for r in region_counts(agent, demarche)
    )
    return _csv_response_text(header, rows)


def batch_summary_csv(batch: LetterBatch) -> str:
    """The summary of a batch of letters: SIRET, name, code issued/expires — never the code."""
    header = [
        "SIRET",
        "Nom",
        "Code émis le",
        "Code expire le",
        "Code précédent révoqué",
    ]
    rows = (
        [
            letter.centre.establishment.siret,
            letter.centre.letter_name,
            _dt(letter.activation_code.issued_at),
            _dt(letter.activation_code.expires_at),
            "oui" if letter.revoked_previous else "non",
        ]
        for letter in batch.letters.select_related("centre__establishment", "activation_code")
        .order_by("centre__letter_name", "pk")
        .iterator(chunk_size=2000)
    )
    return _csv_response_text(header, rows)


# --- Late access reviews (portail.habilitations.access_review) ----------------------------------


def late_review_counts(agent: AgentProfile, demarche: Demarche) -> list[dict[str, Any]]:
    """Per visible region: its open centres whose company's access review is late (one query
    for the counts, one for the regions)."""
    counts = dict(
        late_review_centres(agent, demarche)
        .order_by()
        .values("region")
        .annotate(late=Count("pk"))
        .values_list("region", "late")
    )
    return [
        {"region": region, "late": counts.get(region.pk, 0)}
        for region in Region.objects.visible_to(agent).order_by("code")
    ]


def late_review_centres(
    agent: AgentProfile, demarche: Demarche, region: Region | None = None
) -> QuerySet[Centre]:
    """The open centres visible to `agent` (of `region`) whose company (SIREN) has a review of
    `demarche` past its deadline and not confirmed; each with its `review_deadline` and
    `review_opened_at` (the earliest late review's)."""
    late = (
        AccessReview.objects.late()
        .filter(demarche=demarche, siren=OuterRef("establishment__siren"))
        .order_by("deadline")
    )
    centres = Centre.objects.open().visible_to(agent)
    if region is not None:
        centres = centres.filter(region=region)
    annotated: QuerySet[Centre] = centres.annotate(
        review_deadline=Subquery(late.values("deadline")[:1]),
        review_opened_at=Subquery(late.values("opened_at")[:1]),
    ).filter(review_deadline__isnull=False)
    return annotated


LATE_REVIEWS_HEADER = [
    "SIRET",
    "Nom",
    "Commune",
    "Région",
    "Revue ouverte le",
    "À faire avant le",
    "Jours de retard",
]


def late_reviews_rows(centres: QuerySet[Any]) -> Iterator[list[Any]]:
    now = timezone.now()
    for c in centres.select_related("establishment", "region").iterator(chunk_size=2000):
        yield [
            c.establishment.siret,
            c.letter_name,
            c.establishment.commune,
            c.region.name,
            _dt(c.review_opened_at),
            _dt(c.review_deadline),
            (now - c.review_deadline).days,
        ]
