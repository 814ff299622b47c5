"""The company registry: one interface, `lookup(siret)`, over interchangeable adapters.

The adapter is chosen by the setting `COMPANIES_REGISTRY` (see `portail.companies.conf`):

- `sirene_local` (default): a local copy of INSEE's Sirene stock files (`import_sirene`);
- `recherche_entreprises`: the open API Recherche d'entreprises;
- `api_entreprise`: API Entreprise v3 (needs a token).

Answers of the HTTP adapters are cached in the database (`RegistryRecord`) with their source and
date, and served from there while younger than `COMPANIES_REGISTRY_MAX_AGE`. When the registry
does not answer, an older cached answer is served rather than nothing.

Callers:

- `lookup(siret)` → `EstablishmentData`, or raises `InvalidSiret`, `UnknownSiret`,
  `RegistryUnavailable` (all `RegistryError`, each with a French `message` for the user).
  A closed establishment is returned with `is_active=False`: the caller decides (sign-up refuses
  it with `CLOSED_MESSAGE`).
- `establishment_from_registry(siret)` → the `Establishment` row, created or refreshed from the
  registry (verified).
- `declared_establishment(siret, name, ...)` → the `Establishment` row as a person typed it when
  the registry was unreachable (not verified); never overwrites a row that exists.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from portail.companies import adapters, conf
from portail.companies.models import Establishment, RegistryRecord
from portail.companies.siret import normalize_siret, siret_error

logger = logging.getLogger(__name__)

UNKNOWN_MESSAGE = "Ce SIRET est inconnu du répertoire des entreprises."
UNAVAILABLE_MESSAGE = (
    "Le répertoire des entreprises ne répond pas : vous pouvez saisir les informations à la main."
)
CLOSED_MESSAGE = (
    "Cet établissement est fermé selon le répertoire des entreprises : "
    "indiquez le SIRET d'un établissement en activité."
)


class RegistryError(Exception):
    """Base of the registry's errors; `message` is meant for the user, in French."""

    default_message = "Erreur du répertoire des entreprises."

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        self.message = message or self.default_message
        self.detail = detail  # for the logs, never shown
        super().__init__(self.message)


class InvalidSiret(RegistryError):  # noqa: N818 -- the names the other apps import
    default_message = "Ce numéro SIRET n'est pas valide."


class UnknownSiret(RegistryError):  # noqa: N818
    default_message = UNKNOWN_MESSAGE


class RegistryUnavailable(RegistryError):  # noqa: N818
    default_message = UNAVAILABLE_MESSAGE


@dataclass(frozen=True)
class EstablishmentData:
    siret: str
    siren: str
    name: str
    address: str
    postcode: str
    commune: str
    is_head_office: bool
    is_active: bool
    source: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def commune_line(self) -> str:
        return f"{self.postcode} {self.commune}".strip()


class Adapter(Protocol):
    """What `lookup` asks of a registry adapter (see `portail.companies.adapters`)."""

    source: Establishment.Source
    cached: bool  # whether `lookup` keeps its answers in RegistryRecord

    def fetch(self, siret: str) -> EstablishmentData:
        """Raises UnknownSiret or RegistryUnavailable."""
        ...


def validated_siret(siret: object) -> str:
    """The normalised SIRET, or raises InvalidSiret with the French message."""
    number = normalize_siret(siret)
    error = siret_error(number)
    if error:
        raise InvalidSiret(error)
    return number


def get_adapter(name: str | None = None) -> Adapter:
    return adapters.get_adapter(name or conf.registry())


def lookup(siret: object) -> EstablishmentData:
    """What the registry knows of this establishment (validated, cached, then asked)."""
    number = validated_siret(siret)
    adapter = get_adapter()
    if not adapter.cached:
        return adapter.fetch(number)

    cached = RegistryRecord.objects.filter(siret=number, source=adapter.source).first()
    if cached and cached.fetched_at >= timezone.now() - timedelta(seconds=conf.max_age()):
        return _data_from_record(cached)
    try:
        data = adapter.fetch(number)
    except RegistryUnavailable as exc:
        logger.warning("Company registry %s unavailable: %s", adapter.source, exc.detail)
        if cached:  # stale, but better than nothing while the registry is down
            return _data_from_record(cached)
        raise
    except UnknownSiret:
        RegistryRecord.objects.filter(siret=number).delete()
        raise
    _store_record(data)
    return data


def _data_from_record(record: RegistryRecord) -> EstablishmentData:
    return EstablishmentData(**{f.name: getattr(record, f.name) for f in fields(EstablishmentData)})


def _store_record(data: EstablishmentData) -> None:
    values = data.as_dict()
    siret = values.pop("siret")
    values["fetched_at"] = timezone.now()
    try:
        with transaction.atomic():
            RegistryRecord.objects.update_or_create(siret=siret, defaults=values)
    except IntegrityError:  # two requests stored the same SIRET at once: either answer will do
        pass


def _establishment_fields(data: EstablishmentData) -> dict[str, Any]:
    return {
        "siren": data.siren,
        "name": data.name[:255],
        "address": data.address[:255],
        "postcode": data.postcode[:10],
        "commune": data.commune[:255],
        "is_head_office": data.is_head_office,
        "is_active": data.is_active,
        "source": data.source,
        "verified": True,
        "refreshed_at": timezone.now(),
    }


def establishment_from_registry(siret: object) -> Establishment:
    """The Establishment row for `siret`, created or refreshed from the registry (verified).

    Raises like `lookup`. A closed establishment is stored too (is_active=False).
    """
    data = lookup(siret)
    fields = _establishment_fields(data)
    with transaction.atomic():
        establishment = Establishment.objects.select_for_update().filter(siret=data.siret).first()
        if establishment is None:
            try:
                with transaction.atomic():
                    return Establishment.objects.create(siret=data.siret, **fields)
            except IntegrityError:  # created meanwhile by another request
                establishment = Establishment.objects.select_for_update().get(siret=data.siret)
        for name, value in fields.items():
            setattr(establishment, name, value)
        establishment.save(update_fields=list(fields))
    return establishment


def declared_establishment(
    siret: object, name: str, address: str = "", postcode: str = "", commune: str = ""
) -> Establishment:
    """The Establishment row as a person declared it, when the registry could not be asked.

    Not verified, source "declared". An existing row (verified or declared earlier) is returned
    unchanged: a declaration never overwrites what the registry or someone else recorded. The
    person's own wording is kept on their account (`User.declared_*`).
    """
    number = validated_siret(siret)
    defaults = {
        "siren": number[:9],
        "name": (name or "").strip()[:255],
        "address": (address or "").strip()[:255],
        "postcode": (postcode or "").strip()[:10],
        "commune": (commune or "").strip()[:255],
        "is_head_office": False,
        "is_active": True,
        "source": Establishment.Source.DECLARED,
        "verified": False,
        "refreshed_at": None,
    }
    existing = Establishment.objects.filter(siret=number).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Establishment.objects.create(siret=number, **defaults)
    except IntegrityError:
        return Establishment.objects.get(siret=number)
