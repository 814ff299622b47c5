"""Reads the back-office's views share with its flows (the registry is asked here, never in a
view or a form)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from portail.audit.models import AuditEvent
from portail.centres.departements import region_code_of_postcode
from portail.centres.models import Centre, Region
from portail.companies import registry
from portail.companies.models import Establishment, EstablishmentClosure


@dataclass(frozen=True)
class CentrePrefill:
    """What the registry says of a SIRET typed in the new-centre form, merged into its values."""

    values: dict[str, str]
    data: registry.EstablishmentData | None = None
    error: str = ""


def centre_prefill(values: dict[str, str]) -> CentrePrefill:
    """The new-centre form's `values`, with the letter's name and address, and the region of the
    establishment's commune, taken from the registry where the agent left them empty; or the
    registry's refusal. The form keeps the region only if the agent may choose it."""
    try:
        data = registry.lookup(values.get("siret", ""))
    except registry.RegistryError as exc:
        return CentrePrefill(values=values, error=exc.message)
    address = "\n".join(x for x in (data.address, data.commune_line) if x)
    filled = {
        **values,
        "letter_name": values.get("letter_name") or data.name,
        "letter_address": values.get("letter_address") or address,
        "region": values.get("region") or region_of_postcode(data.postcode),
    }
    return CentrePrefill(values=filled, data=data)


def region_of_postcode(postcode: str) -> str:
    """The pk (as the form's value) of the region of that postcode's département, or ""."""
    code = region_code_of_postcode(postcode)
    region = Region.objects.filter(code=code).first() if code else None
    return str(region.pk) if region is not None else ""


def centre_events(centre: Centre, limit: int = 20) -> QuerySet[AuditEvent]:
    """The latest journal events of the centre's establishment and of its sites liés."""
    establishments = [centre.establishment_id] + [
        s.establishment_id for s in centre.sites.all() if s.establishment_id
    ]
    return AuditEvent.objects.filter(establishment_id__in=establishments).order_by("-at", "-id")[
        :limit
    ]


def sirene_closure_date(establishment_path: str = "establishment") -> "Subquery":
    """Annotation: when the Sirene import last found the establishment at `establishment_path`
    closed (None if never)."""
    latest: QuerySet[EstablishmentClosure, Any] = (
        EstablishmentClosure.objects.filter(establishment=OuterRef(establishment_path))
        .order_by("-detected_at", "-pk")
        .values("detected_at")[:1]
    )
    return Subquery(latest)


def closed_in_sirene_at(establishment: Establishment) -> datetime | None:
    """When the Sirene import found this establishment closed, while it still is (None if it
    is open, or was closed otherwise)."""
    if establishment.is_active:
        return None
    closure = (
        EstablishmentClosure.objects.filter(establishment=establishment)
        .order_by("-detected_at", "-pk")
        .first()
    )
    return closure.detected_at if closure is not None else None
