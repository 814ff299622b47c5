"""CSV import of centres already approved: every line checked first, then all or nothing.

Accepted: UTF-8 (with or without BOM) or Windows-1252 — what spreadsheets save —, separated by
semicolons or commas. Required columns: siret, nom, adresse, region (INSEE code or name of the
region); optional: code_postal, commune, email, reference_agrement, date_agrement (JJ/MM/AAAA).
Errors are reported line by line; a single error and nothing is imported.
"""

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from portail.accounts.models import User
from portail.audit.journal import record
from portail.backoffice.models import AgentProfile
from portail.centres.models import ADDRESS_MAX_LENGTH, Centre, CentreImport, Region
from portail.companies.models import Establishment
from portail.companies.siret import normalize_siret, siret_error
from portail.core.context import SYSTEM, Context
from portail.core.refusals import Refusal

MAX_LINES = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_REPORTED_ERRORS = 200
REQUIRED = ("siret", "nom", "adresse", "region")
OPTIONAL = ("code_postal", "commune", "email", "reference_agrement", "date_agrement")
HEADER_HELP = "siret;nom;adresse;region"


@dataclass
class ImportLine:
    number: int
    siret: str
    name: str
    address: str
    region: Region
    postcode: str = ""
    commune: str = ""
    email: str = ""
    reference: str = ""
    agrement_date: date | None = None


@dataclass
class ImportResult:
    lines: list[ImportLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    encoding: str = ""

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(message)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def _simplify(text: str) -> str:
    """'Région ' → 'region': lower case, no accent, spaces to underscores."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "_".join(text.replace("-", " ").split())


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding) — UTF-8 first, then Windows-1252; raises ValueError otherwise."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        raise ValueError(
            "Le fichier n’est ni en UTF-8 ni en Windows-1252 : enregistrez-le au format "
            "« CSV UTF-8 » depuis votre tableur."
        ) from exc


def _region_lookup(agent: AgentProfile) -> tuple[dict[str, Region], set[int]]:
    regions = {}
    for region in Region.objects.all():
        regions[region.code] = region
        regions[_simplify(region.name)] = region
        # "Île-de-France" for "DRIEETS Île-de-France"
        regions[_simplify(region.name.split(" ", 1)[-1])] = region
    allowed = {r.pk for r in Region.objects.visible_to(agent)}
    return regions, allowed


def _parse_date(value: str) -> date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 (a date, no time zone)
        except ValueError:
            continue
    raise ValueError


class UnreadableFileError(Refusal):
    """The file cannot be read as the CSV expected; the message says why (on the "file" field)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


def too_big_message() -> str:
    return f"Le fichier dépasse {MAX_BYTES // (1024 * 1024)} Mo."


def _read(raw: bytes, result: ImportResult) -> tuple[list[str], list[list[str]]]:
    """The header and the rows; raises UnreadableFileError with the reason."""
    if len(raw) > MAX_BYTES:
        raise UnreadableFileError(too_big_message())
    try:
        text, result.encoding = decode(raw)
    except ValueError as exc:
        raise UnreadableFileError(str(exc)) from exc
    if text.count("\n") > MAX_LINES + 1:
        raise UnreadableFileError(
            f"Le fichier compte plus de {MAX_LINES} lignes : découpez-le en plusieurs fichiers."
        )
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnreadableFileError(f"Fichier CSV illisible : {exc}.") from exc
    if not rows:
        raise UnreadableFileError("Le fichier est vide.")
    header = [_simplify(h) for h in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if missing or unknown or len(set(header)) != len(header):
        raise UnreadableFileError(
            f"Ligne 1 : en-tête inattendu. Colonnes obligatoires : {HEADER_HELP} "
            f"(facultatives : {';'.join(OPTIONAL)}). Reçu : {';'.join(header)}."
        )
    return header, rows[1:]


def _check_values(
    values: dict[str, str], regions: dict[str, Region], allowed: set[int]
) -> tuple[list[str], dict[str, Any]]:
    """Errors of one line, and its cleaned values."""
    errors = []
    clean: dict[str, Any] = {"siret": normalize_siret(values["siret"])}
    problem = siret_error(clean["siret"])
    if problem:
        errors.append(f"SIRET « {values['siret']} » : {problem}")
    if not values["nom"]:
        errors.append("nom manquant")
    if not values["adresse"]:
        errors.append("adresse manquante")
    elif len(values["adresse"]) > ADDRESS_MAX_LENGTH:
        errors.append(
            f"adresse de {len(values['adresse'])} caractères, {ADDRESS_MAX_LENGTH} au plus"
        )
    region = regions.get(values["region"].zfill(2)) or regions.get(_simplify(values["region"]))
    if region is None:
        errors.append(f"région « {values['region']} » inconnue")
    elif region.pk not in allowed:
        errors.append(f"la région {region.name} n’est pas dans votre périmètre")
    clean["region"] = region
    email = values.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"adresse électronique « {email} » invalide")
    clean["agrement_date"] = None
    if values.get("date_agrement"):
        try:
            clean["agrement_date"] = _parse_date(values["date_agrement"])
        except ValueError:
            errors.append(f"date d’agrément « {values['date_agrement']} » invalide (JJ/MM/AAAA)")
    return errors, clean


def parse(raw: bytes, *, agent: AgentProfile) -> ImportResult:
    """Check every line; nothing is written."""
    result = ImportResult()
    try:
        header, rows = _read(raw, result)
    except UnreadableFileError as exc:
        result.error(exc.message)
        return result
    regions, allowed = _region_lookup(agent)
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            result.error(f"Ligne {number} : {len(row)} colonnes au lieu de {len(header)}.")
            continue
        values = {name: row[i].strip() for i, name in enumerate(header)}
        errors, clean = _check_values(values, regions, allowed)
        siret = clean["siret"]
        if not errors and siret in seen:
            errors.append(f"SIRET {siret} déjà présent ligne {seen[siret]}")
        seen.setdefault(siret, number)
        if errors:
            result.error(f"Ligne {number} : " + " ; ".join(errors) + ".")
            continue
        result.lines.append(
            ImportLine(
                number=number,
                siret=siret,
                name=values["nom"][:255],
                address=values["adresse"],
                region=clean["region"],
                postcode=values.get("code_postal", "")[:10],
                commune=values.get("commune", "")[:255],
                email=values.get("email", ""),
                reference=values.get("reference_agrement", "")[:64],
                agrement_date=clean["agrement_date"],
            )
        )
    if not result.lines and not result.error_count:
        result.error("Le fichier ne contient aucun centre.")
    _check_existing_centres(result)
    return result


def _check_existing_centres(result: ImportResult) -> None:
    sirets = [line.siret for line in result.lines]
    existing: dict[str, str] = {}
    for start in range(0, len(sirets), 500):
        chunk = sirets[start : start + 500]
        existing.update(
            Centre.objects.filter(establishment__siret__in=chunk).values_list(
                "establishment__siret", "letter_name"
            )
        )
    for line in result.lines:
        if line.siret in existing:
            result.error(
                f"Ligne {line.number} : le SIRET {line.siret} est déjà un centre agréé "
                f"({existing[line.siret]})."
            )


@transaction.atomic
def import_centres(
    *, actor: User, raw: bytes, filename: str = "", context: Context = SYSTEM
) -> tuple[CentreImport | None, ImportResult]:
    """Parse and, when every line is right, create every centre. Returns (import or None, result)."""
    result = parse(raw, agent=actor.agent_profile)
    if not result.ok:
        return None, result
    sirets = [line.siret for line in result.lines]
    establishments = {}
    for start in range(0, len(sirets), 500):
        chunk = sirets[start : start + 500]
        establishments.update(
            {e.siret: e for e in Establishment.objects.select_for_update().filter(siret__in=chunk)}
        )
    new = [
        Establishment(
            siret=line.siret,
            siren=line.siret[:9],
            name=line.name,
            address=line.address.splitlines()[0][:255] if line.address else "",
            postcode=line.postcode,
            commune=line.commune,
            source=Establishment.Source.DECLARED,
            verified=False,
        )
        for line in result.lines
        if line.siret not in establishments
    ]
    Establishment.objects.bulk_create(new, batch_size=500)
    for start in range(0, len(sirets), 500):
        chunk = sirets[start : start + 500]
        establishments.update({e.siret: e for e in Establishment.objects.filter(siret__in=chunk)})
    closed = [line for line in result.lines if not establishments[line.siret].is_active]
    for line in closed:
        result.error(f"Ligne {line.number} : l’établissement {line.siret} est fermé.")
    if closed:
        transaction.set_rollback(True)
        return None, result
    centre_import = CentreImport.objects.create(
        created_by=actor,
        filename=filename[:255],
        encoding=result.encoding,
        line_count=len(result.lines),
    )
    Centre.objects.bulk_create(
        [
            Centre(
                establishment=establishments[line.siret],
                region=line.region,
                agrement_reference=line.reference,
                agrement_date=line.agrement_date,
                contact_email=line.email,
                letter_name=line.name,
                letter_address=line.address,
                created_by=actor,
                imported_in=centre_import,
            )
            for line in result.lines
        ],
        batch_size=500,
    )
    record(
        "backoffice.centres.imported",
        actor=actor,
        target=centre_import,
        context=context,
        data={
            "centres": len(result.lines),
            "filename": filename[:255],
            "encoding": result.encoding,
        },
    )
    return centre_import, result
