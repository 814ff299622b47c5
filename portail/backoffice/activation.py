"""Where a centre stands with its activation codes for a démarche (CERES).

The codes belong to `demarches`, above `centres` in the layers: the centres app cannot read them,
so the back-office, which follows activation, annotates and filters centres here.
"""

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from portail.centres.models import Centre
from portail.demarches.models import ActivationCode, Demarche


class ActivationStatus(models.TextChoices):
    ACTIVATED = "activated", "Activé"
    PENDING = "pending", "Code en attente"
    EXPIRED = "expired", "Code expiré"
    NO_CODE = "no_code", "Aucun code valide"


def with_activation(
    centres: QuerySet[Centre], demarche: Demarche, now: datetime | None = None
) -> QuerySet[Centre]:
    """Annotate `is_activated` (a code was used), `has_pending_code` (a usable code waits),
    `has_expired_code` (the last codes expired unused)."""
    now = now or timezone.now()
    codes = ActivationCode.objects.filter(demarche=demarche, siret=OuterRef("establishment__siret"))
    return centres.annotate(
        is_activated=Exists(codes.filter(used_at__isnull=False)),
        has_pending_code=Exists(codes.usable(now)),
        has_expired_code=Exists(codes.expired(now)),
    )


def with_status(
    centres: QuerySet[Centre], status: str, demarche: Demarche, now: datetime | None = None
) -> QuerySet[Centre]:
    """Filter on one of `ActivationStatus` (needs no prior annotation)."""
    # Any: the filters below name the annotations, which the declared QuerySet[Centre] hides.
    qs: QuerySet[Any] = with_activation(centres, demarche, now)
    if status == ActivationStatus.ACTIVATED:
        return qs.filter(is_activated=True)
    if status == ActivationStatus.PENDING:
        return qs.filter(is_activated=False, has_pending_code=True)
    if status == ActivationStatus.EXPIRED:
        return qs.filter(is_activated=False, has_pending_code=False, has_expired_code=True)
    if status == ActivationStatus.NO_CODE:
        return qs.filter(is_activated=False, has_pending_code=False, has_expired_code=False)
    return qs


def status_of(centre: Any) -> str:
    """The activation status of a centre annotated by `with_activation`."""
    if centre.is_activated:
        return ActivationStatus.ACTIVATED
    if centre.has_pending_code:
        return ActivationStatus.PENDING
    if centre.has_expired_code:
        return ActivationStatus.EXPIRED
    return ActivationStatus.NO_CODE
