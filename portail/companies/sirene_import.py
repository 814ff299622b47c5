"""Import of INSEE's Sirene stock files into the local tables (the `sirene_local` adapter).

INSEE publishes two CSV files (UTF-8, comma-separated, one header line), usually zipped:
`StockUniteLegale_utf8.csv` (≈ 30 million companies) and `StockEtablissement_utf8.csv`
(≈ 40 million establishments). They are read as a stream, row by row, and written in batches
(an upsert per batch, one transaction per batch): memory stays flat whatever the file size, and
an interrupted import can simply be run again. Only the columns below are read; the others are
ignored, so new columns INSEE adds do not break the import.
"""

from __future__ import annotations

import csv
import gzip
import io
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from portail.companies.models import SireneEtablissement, SireneUniteLegale

DEFAULT_BATCH_SIZE = 2000

# Non-diffusible data ("statut de diffusion" P) is replaced by this marker in the stock files.
NOT_DIFFUSIBLE = "[ND]"

UNITE_LEGALE_COLUMNS = (
    "siren",
    "etatAdministratifUniteLegale",
    "denominationUniteLegale",
    "denominationUsuelle1UniteLegale",
    "nomUniteLegale",
    "nomUsageUniteLegale",
    "prenom1UniteLegale",
    "prenomUsuelUniteLegale",
)
ETABLISSEMENT_COLUMNS = (
    "siren",
    "siret",
    "etablissementSiege",
    "etatAdministratifEtablissement",
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "distributionSpecialeEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "enseigne1Etablissement",
    "denominationUsuelleEtablissement",
)

# INSEE's codes for the kind of street (typeVoieEtablissement), spelled out as the registry's
# APIs print them.
STREET_TYPES = {
    "ALL": "ALLEE",
    "AV": "AVENUE",
    "BD": "BOULEVARD",
    "CAR": "CARREFOUR",
    "CHE": "CHEMIN",
    "CHS": "CHAUSSEE",
    "CITE": "CITE",
    "COR": "CORNICHE",
    "CRS": "COURS",
    "DOM": "DOMAINE",
    "DSC": "DESCENTE",
    "ECA": "ECART",
    "ESP": "ESPLANADE",
    "FG": "FAUBOURG",
    "GR": "GRANDE RUE",
    "HAM": "HAMEAU",
    "HLE": "HALLE",
    "IMP": "IMPASSE",
    "LD": "LIEU DIT",
    "LOT": "LOTISSEMENT",
    "MAR": "MARCHE",
    "MTE": "MONTEE",
    "PAS": "PASSAGE",
    "PL": "PLACE",
    "PLN": "PLAINE",
    "PLT": "PLATEAU",
    "PRO": "PROMENADE",
    "PRV": "PARVIS",
    "QUA": "QUARTIER",
    "QUAI": "QUAI",
    "RES": "RESIDENCE",
    "RLE": "RUELLE",
    "ROC": "ROCADE",
    "RPT": "ROND POINT",
    "RTE": "ROUTE",
    "RUE": "RUE",
    "SEN": "SENTIER",
    "SQ": "SQUARE",
    "TPL": "TERRE PLEIN",
    "TRA": "TRAVERSE",
    "VLA": "VILLA",
    "VLGE": "VILLAGE",
}
REPETITION_INDEX = {"B": "BIS", "T": "TER", "Q": "QUATER", "C": "QUINQUIES"}


Row = dict[str, str]  # a line of a stock file, by column name


class SireneFileError(ValueError):
    """The file is not one of INSEE's stock files (missing columns, unreadable archive)."""


@dataclass
class ImportResult:
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _value(row: Row, column: str) -> str:
    value = (row.get(column) or "").strip()
    return "" if value == NOT_DIFFUSIBLE else value


@contextmanager
def open_stock_file(path: Path | str) -> Iterator[io.TextIOBase]:
    """A text stream over a CSV, a .csv.gz or a .zip holding one CSV (as INSEE ships them)."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
            if len(members) != 1:
                raise SireneFileError(f"{path.name}: l'archive doit contenir un seul fichier CSV.")
            with (
                archive.open(members[0]) as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text,
            ):
                yield text
    elif path.suffix == ".gz":
        with gzip.open(path, mode="rt", encoding="utf-8-sig", newline="") as text:
            yield text
    else:
        with path.open(encoding="utf-8-sig", newline="") as text:
            yield text


def _rows(stream: io.TextIOBase, required: Iterable[str]) -> Iterator[Row]:
    reader = csv.DictReader(stream)
    missing = [column for column in required if column not in (reader.fieldnames or [])]
    if missing:
        raise SireneFileError(f"Colonnes absentes du fichier : {', '.join(missing)}.")
    yield from reader


def unite_legale_from_row(row: Row) -> dict[str, Any]:
    name = _value(row, "denominationUniteLegale") or _value(row, "denominationUsuelle1UniteLegale")
    if not name:  # a person (entrepreneur individuel): first name and name
        first_name = _value(row, "prenomUsuelUniteLegale") or _value(row, "prenom1UniteLegale")
        last_name = _value(row, "nomUsageUniteLegale") or _value(row, "nomUniteLegale")
        name = " ".join(part for part in (first_name, last_name) if part)
    return {
        "siren": _value(row, "siren"),
        "name": name[:255],
        "is_active": _value(row, "etatAdministratifUniteLegale") != "C",
    }


def street_line(row: Row) -> str:
    """'12 BIS AVENUE DU LIVRE, BATIMENT A, BP 12' from the address columns."""
    street_type = _value(row, "typeVoieEtablissement")
    street = " ".join(
        part
        for part in (
            _value(row, "numeroVoieEtablissement"),
            REPETITION_INDEX.get(
                _value(row, "indiceRepetitionEtablissement"),
                _value(row, "indiceRepetitionEtablissement"),
            ),
            STREET_TYPES.get(street_type, street_type),
            _value(row, "libelleVoieEtablissement"),
        )
        if part
    )
    parts = (
        street,
        _value(row, "complementAdresseEtablissement"),
        _value(row, "distributionSpecialeEtablissement"),
    )
    return ", ".join(part for part in parts if part)


def etablissement_from_row(row: Row) -> dict[str, Any]:
    commune = _value(row, "libelleCommuneEtablissement")
    if not commune:  # abroad
        commune = " ".join(
            part
            for part in (
                _value(row, "libelleCommuneEtrangerEtablissement"),
                _value(row, "libellePaysEtrangerEtablissement"),
            )
            if part
        )
    return {
        "siret": _value(row, "siret"),
        "siren": _value(row, "siren"),
        "enseigne": (
            _value(row, "enseigne1Etablissement") or _value(row, "denominationUsuelleEtablissement")
        )[:255],
        "address": street_line(row)[:255],
        "postcode": _value(row, "codePostalEtablissement")[:10],
        "commune": commune[:255],
        "is_head_office": _value(row, "etablissementSiege").lower() == "true",
        "is_active": _value(row, "etatAdministratifEtablissement") != "F",
    }


def _upsert_sql(model: type[models.Model], key: str, rows: int) -> str:
    """INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE, for `rows` rows at once.

    The same statement works on SQLite (3.24+) and PostgreSQL. Written by hand because Django's
    bulk_create(update_conflicts=True) spends most of an import compiling SQL (see
    docs/companies.md for the figures).
    """
    quote = connection.ops.quote_name
    columns = [field.column for field in model._meta.concrete_fields]
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c != key)
    values = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * rows)
    # Identifiers come from the model and are quoted; values are parameters.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {values} ON CONFLICT ({quote(key)}) DO UPDATE SET {updates}"
    )


def _upsert_unnest_sql(model: type[models.Model], key: str) -> str:
    """PostgreSQL: the whole batch as one array per column (9 parameters, whatever the rows)."""
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    updates = ", ".join(
        f"{quote(f.column)} = excluded.{quote(f.column)}" for f in fields if f.column != key
    )
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) ON CONFLICT ({quote(key)}) DO UPDATE SET {updates}"
    )


def _rows_per_statement(columns: int) -> int:
    max_params = connection.features.max_query_params or 65535
    return max(1, min(1000, max_params // columns))


def _import(
    path: Path | str,
    *,
    model: type[models.Model],
    key: str,
    required: tuple[str, ...],
    build: Callable[[Row], dict[str, Any]],
    batch_size: int,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    result = ImportResult()
    started = time.monotonic()
    columns = [field.column for field in model._meta.concrete_fields]
    key_index = columns.index(key)
    per_statement = _rows_per_statement(len(columns))
    statements: dict[int, str] = {}
    unnest_sql = _upsert_unnest_sql(model, key) if connection.vendor == "postgresql" else ""
    # Keyed by SIREN/SIRET: a key twice in one batch (never in INSEE's files) keeps its last row,
    # as PostgreSQL refuses to upsert the same row twice in one statement.
    batch: dict[str, tuple[Any, ...]] = {}

    def flush() -> None:
        rows = list(batch.values())
        with transaction.atomic(), connection.cursor() as cursor:
            if unnest_sql:
                cursor.execute(unnest_sql, [list(column) for column in zip(*rows, strict=True)])
            else:
                for start in range(0, len(rows), per_statement):
                    chunk = rows[start : start + per_statement]
                    if len(chunk) not in statements:
                        statements[len(chunk)] = _upsert_sql(model, key, len(chunk))
                    cursor.execute(statements[len(chunk)], [v for row in chunk for v in row])
        result.rows += len(rows)
        result.batches += 1
        batch.clear()
        if progress:
            progress(result)

    imported_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with open_stock_file(path) as stream:
        for row in _rows(stream, required):
            values = build(row)
            if not values[key] or (keep and not keep(values)):
                continue
            values["updated_at"] = imported_at
            row_values = tuple(values[c] for c in columns)
            batch[row_values[key_index]] = row_values
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    result.seconds = time.monotonic() - started
    return result


def import_unites_legales(
    path: Path | str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    return _import(
        path,
        model=SireneUniteLegale,
        key="siren",
        required=UNITE_LEGALE_COLUMNS,
        build=unite_legale_from_row,
        batch_size=batch_size,
        progress=progress,
    )


def import_etablissements(
    path: Path | str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    active_only: bool = False,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    return _import(
        path,
        model=SireneEtablissement,
        key="siret",
        required=ETABLISSEMENT_COLUMNS,
        build=etablissement_from_row,
        batch_size=batch_size,
        keep=(lambda values: values["is_active"]) if active_only else None,
        progress=progress,
    )
