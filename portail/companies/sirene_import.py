"""Import of INSEE's Sirene files into the local tables (the `sirene_local` adapter).

INSEE publishes, in one CSV format (UTF-8, comma-separated, one header line), usually zipped:
the monthly stock files `StockUniteLegale_utf8.csv` (≈ 30 million companies) and
`StockEtablissement_utf8.csv` (≈ 40 million establishments), and the daily updates ("mises à
jour": the establishments that changed that day, same columns). Both are imported the same way:
each line is the whole state of one company or establishment and replaces its row (an upsert),
so a stock file and a file of changes are read alike, and an interrupted import can simply be
run again.

The file is read as a stream of lines; each line is checked before anything is written (UTF-8,
as many fields as the header, quotes closed, the line complete): a bad line is reported by its
number and skipped, the others are imported. A line is an establishment: it is applied whole or
not at all. Memory stays flat whatever the file size.

Two ways of writing (docs/companies.md, decision 0022):

- PostgreSQL: the checked lines are streamed with `COPY … FROM STDIN` into a temporary staging
  table (text columns, as in the file), then ONE `INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE
  (something changed)` computes our columns in SQL and merges them, in the same transaction: the
  file is applied whole or not at all.
- SQLite (and PostgreSQL when asked, `method="batched"`): rows are computed in Python and upserted
  in batches (one transaction per batch).

Both give the same rows, column for column (a test imports the same files both ways). After the
establishments, `record_closures` notes every establishment of the portal that the registry now
says closed (`EstablishmentClosure`); the back-office reacts to those rows (a housekeeping chore).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.db import DatabaseError, connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from portail.companies.models import (
    Establishment,
    EstablishmentClosure,
    SireneEtablissement,
    SireneUniteLegale,
)

DEFAULT_BATCH_SIZE = 2000
# The housekeeping chore that reacts to the closures found (registered by the back-office).
CLOSURES_CHORE = "establishment_closures"
# Refused lines listed by number in the result (all are counted).
MAX_REPORTED_LINES = 100

# Non-diffusible data ("statut de diffusion" P) is replaced by this marker in the stock files.
NOT_DIFFUSIBLE = "[ND]"
# What is stripped around a value: the same characters in Python and in SQL (btrim), so that
# both ways of importing give the same rows.
WHITESPACE = " \t\n\r\f\v"

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

# Every column of INSEE's files as published (the shipped samples have them all): a column
# outside these is "unknown", ignored and named in the report.
INSEE_UNITE_LEGALE_COLUMNS = frozenset(
    [
        "siren",
        "statutDiffusionUniteLegale",
        "unitePurgeeUniteLegale",
        "dateCreationUniteLegale",
        "sigleUniteLegale",
        "sexeUniteLegale",
        "prenom1UniteLegale",
        "prenom2UniteLegale",
        "prenom3UniteLegale",
        "prenom4UniteLegale",
        "prenomUsuelUniteLegale",
        "pseudonymeUniteLegale",
        "identifiantAssociationUniteLegale",
        "trancheEffectifsUniteLegale",
        "anneeEffectifsUniteLegale",
        "dateDernierTraitementUniteLegale",
        "nombrePeriodesUniteLegale",
        "categorieEntreprise",
        "anneeCategorieEntreprise",
        "dateDebut",
        "etatAdministratifUniteLegale",
        "nomUniteLegale",
        "nomUsageUniteLegale",
        "denominationUniteLegale",
        "denominationUsuelle1UniteLegale",
        "denominationUsuelle2UniteLegale",
        "denominationUsuelle3UniteLegale",
        "categorieJuridiqueUniteLegale",
        "activitePrincipaleUniteLegale",
        "nomenclatureActivitePrincipaleUniteLegale",
        "nicSiegeUniteLegale",
        "economieSocialeSolidaireUniteLegale",
        "societeMissionUniteLegale",
        "caractereEmployeurUniteLegale",
        "activitePrincipaleNAF25UniteLegale",
    ]
)
INSEE_ETABLISSEMENT_COLUMNS = frozenset(
    [
        "siren",
        "nic",
        "siret",
        "statutDiffusionEtablissement",
        "dateCreationEtablissement",
        "trancheEffectifsEtablissement",
        "anneeEffectifsEtablissement",
        "activitePrincipaleRegistreMetiersEtablissement",
        "dateDernierTraitementEtablissement",
        "etablissementSiege",
        "nombrePeriodesEtablissement",
        "complementAdresseEtablissement",
        "numeroVoieEtablissement",
        "indiceRepetitionEtablissement",
        "dernierNumeroVoieEtablissement",
        "indiceRepetitionDernierNumeroVoieEtablissement",
        "typeVoieEtablissement",
        "libelleVoieEtablissement",
        "codePostalEtablissement",
        "libelleCommuneEtablissement",
        "libelleCommuneEtrangerEtablissement",
        "distributionSpecialeEtablissement",
        "codeCommuneEtablissement",
        "codeCedexEtablissement",
        "libelleCedexEtablissement",
        "codePaysEtrangerEtablissement",
        "libellePaysEtrangerEtablissement",
        "identifiantAdresseEtablissement",
        "coordonneeLambertAbscisseEtablissement",
        "coordonneeLambertOrdonneeEtablissement",
        "complementAdresse2Etablissement",
        "numeroVoie2Etablissement",
        "indiceRepetition2Etablissement",
        "typeVoie2Etablissement",
        "libelleVoie2Etablissement",
        "codePostal2Etablissement",
        "libelleCommune2Etablissement",
        "libelleCommuneEtranger2Etablissement",
        "distributionSpeciale2Etablissement",
        "codeCommune2Etablissement",
        "codeCedex2Etablissement",
        "libelleCedex2Etablissement",
        "codePaysEtranger2Etablissement",
        "libellePaysEtranger2Etablissement",
        "dateDebut",
        "etatAdministratifEtablissement",
        "enseigne1Etablissement",
        "enseigne2Etablissement",
        "enseigne3Etablissement",
        "denominationUsuelleEtablissement",
        "activitePrincipaleEtablissement",
        "nomenclatureActivitePrincipaleEtablissement",
        "caractereEmployeurEtablissement",
        "activitePrincipaleNAF25Etablissement",
    ]
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

Row = dict[str, str]  # a line of a Sirene file, by column name


class SireneFileError(ValueError):
    """The file is not one of INSEE's files (missing columns, unreadable header or archive):
    nothing was imported."""


@dataclass(frozen=True)
class RefusedLine:
    line: int  # in the file, the header being line 1
    reason: str  # in French, for the operator

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}"


@dataclass
class ImportResult:
    rows: int = 0  # lines imported (checked, with a key, kept)
    written: int = 0  # rows created or changed (an unchanged row is not rewritten)
    batches: int = 0
    seconds: float = 0.0
    method: str = ""  # "copy" or "batched"
    refused: int = 0  # lines refused (reported, skipped)
    refused_lines: list[RefusedLine] = field(default_factory=list)  # the first ones
    unknown_columns: list[str] = field(default_factory=list)  # ignored
    closures: int = 0  # establishments of the portal found closed (record_closures)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def refuse(self, line: int, reason: str) -> None:
        self.refused += 1
        if len(self.refused_lines) < MAX_REPORTED_LINES:
            self.refused_lines.append(RefusedLine(line, reason))


def _value(row: Row, column: str) -> str:
    value = (row.get(column) or "").strip(WHITESPACE)
    return "" if value == NOT_DIFFUSIBLE else value


class ByteStream(Protocol):
    """A file read as bytes: plain, gzip or a member of a ZIP archive."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


@contextmanager
def open_stock_file(path: Path | str) -> Iterator[ByteStream]:
    """A byte stream over a CSV, a .csv.gz or a .zip holding one CSV (as INSEE ships them).

    Bytes, not text: each line is decoded on its own, so that a line that is not UTF-8 is
    reported by its number and skipped instead of stopping the import."""
    path = Path(path)
    if path.suffix == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise SireneFileError(f"{path.name} : archive ZIP illisible.") from exc
        with archive:
            members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
            if len(members) != 1:
                raise SireneFileError(f"{path.name} : l’archive doit contenir un seul fichier CSV.")
            with archive.open(members[0]) as member:
                yield member
    elif path.suffix == ".gz":
        with gzip.open(path, mode="rb") as stream:
            yield stream
    else:
        with path.open("rb", buffering=1 << 20) as stream:
            yield stream


@dataclass(frozen=True)
class Header:
    columns: list[str]
    unknown: list[str]

    def index(self, column: str) -> int:
        return self.columns.index(column)


def _read_header(stream: ByteStream, required: Sequence[str], known: frozenset[str]) -> Header:
    first = stream.readline()
    if first.startswith(b"\xef\xbb\xbf"):  # the byte order mark some tools write
        first = first[3:]
    try:
        text = first.decode("utf-8").rstrip("\r\n")
        columns = next(csv.reader([text], strict=True)) if text else []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SireneFileError("La ligne d’en-tête du fichier est illisible.") from exc
    missing = [column for column in required if column not in columns]
    if missing:
        raise SireneFileError(f"Colonnes absentes du fichier : {', '.join(missing)}.")
    twice = sorted({column for column in columns if columns.count(column) > 1})
    if twice:
        raise SireneFileError(f"Colonnes en double dans le fichier : {', '.join(twice)}.")
    unknown = [column for column in columns if column not in known and column not in required]
    return Header(columns=columns, unknown=unknown)


BLOCK_BYTES = 4 << 20  # read at once; its lines are checked together (one chunk)
INVALID_UTF8 = "caractères illisibles : le fichier doit être en UTF-8."


CONTROL = "caractère de contrôle (retour chariot ou NUL) dans la ligne."
BAD_QUOTES = "guillemets mal fermés ou mal placés."


def _wrong_count(count: int, fields: int) -> str:
    return f"{count} champs au lieu de {fields} (ligne tronquée ?)."


def _parse_one(text: str) -> list[str] | None:
    try:
        return next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration):
        return None


def _parse_quoted(texts: list[str]) -> list[list[str] | None]:
    """Each line parsed (None: refused), by one reader; line by line if a quote that a line
    leaves open made the reader run into the next one."""
    reader = csv.reader(texts, strict=True)
    parsed: list[list[str] | None] = []
    for number in range(1, len(texts) + 1):
        try:
            values: list[str] | None = next(reader)
        except csv.Error:
            values = None
        except StopIteration:
            break
        if reader.line_num != number:
            return [_parse_one(text) for text in texts]
        parsed.append(values)
    return parsed if len(parsed) == len(texts) else [_parse_one(text) for text in texts]


def _recheck(
    lines: list[bytes], doubtful: list[int], first: int, fields: int, result: ImportResult
) -> list[bytes]:
    """`lines` (the first being line `first` of the file) with the `doubtful` ones checked: kept,
    written back, or refused; empty lines left out.

    The lines holding quotes are parsed by one strict `csv` reader and written back by one
    writer, in the plain form Python and PostgreSQL read alike (a quote in the middle of an
    unquoted field means a quote to Python, the start of a quoted one to PostgreSQL). An odd
    number of quotes is refused first: such a line would run into the next one."""
    kept = list(lines)
    quoted: list[tuple[int, str]] = []
    for i in doubtful:
        body = lines[i]
        kept[i] = b""
        if not body:
            continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            result.refuse(first + i, INVALID_UTF8)
            continue
        if "\r" in text or "\x00" in text:
            result.refuse(first + i, CONTROL)
        elif '"' not in text:
            count = text.count(",") + 1
            if count == fields:
                kept[i] = body
            else:
                result.refuse(first + i, _wrong_count(count, fields))
        elif text.count('"') % 2:
            result.refuse(first + i, BAD_QUOTES)
        else:
            quoted.append((i, text))
    if quoted:
        _rewrite_quoted(quoted, kept, first, fields, result)
    return [line for line in kept if line]


def _rewrite_quoted(
    quoted: list[tuple[int, str]], kept: list[bytes], first: int, fields: int, result: ImportResult
) -> None:
    """The lines holding quotes (index, text), parsed then written back into `kept`, or
    refused."""
    good: list[tuple[int, list[str]]] = []
    for (i, _), values in zip(quoted, _parse_quoted([t for _, t in quoted]), strict=True):
        if values is None:
            result.refuse(first + i, BAD_QUOTES)
        elif len(values) == fields:
            good.append((i, values))
        else:
            result.refuse(first + i, _wrong_count(len(values), fields))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(values for _, values in good)
    for (i, _), line in zip(good, out.getvalue().split("\n"), strict=False):
        kept[i] = line.encode("utf-8")


def _checked_lines(
    stream: ByteStream, header: Header, result: ImportResult
) -> Iterator[list[bytes]]:
    """The file's data lines, in chunks, each line checked and without its line end; a bad line
    is refused (`result.refuse`, with its number) and left out. Both ways of importing read these
    same lines.

    A line is refused when it is not UTF-8, holds a NUL or a carriage return (other than a
    CRLF line end), has a quote left open or misplaced, has more or fewer fields than the header
    (a truncated line), or is the last one and lacks its line end (the file was cut). Records
    never span lines in INSEE's files: a quoted line break is refused too.

    The file is read by blocks of a few megabytes: a block that is UTF-8 and holds no NUL or
    stray carriage return is checked at once, and only its lines holding a quote or the wrong
    number of commas are looked at one by one.
    """
    fields = len(header.columns)
    commas = fields - 1
    number = 1  # the header
    pending = b""
    while True:
        block = stream.read(BLOCK_BYTES)
        if not block:
            break
        block = pending + block
        cut = block.rfind(b"\n")
        if cut < 0:
            pending = block
            continue
        pending = block[cut + 1 :]
        block = block[: cut + 1]
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")  # CRLF line ends
        block = block[:-1]
        lines = block.split(b"\n")
        first = number + 1
        number += len(lines)
        try:
            block.decode("utf-8")
            clean = b"\x00" not in block and b"\r" not in block
        except UnicodeDecodeError:
            clean = False
        if clean:
            doubtful = [
                i for i, line in enumerate(lines) if b'"' in line or line.count(b",") != commas
            ]
        else:
            doubtful = list(range(len(lines)))
        if doubtful:
            lines = _recheck(lines, doubtful, first, fields, result)
        if lines:
            yield lines
    if pending.strip(b"\r\n"):
        result.refuse(number + 1, "ligne incomplète : le fichier s’arrête au milieu de la ligne.")


def _rows(chunks: Iterator[list[bytes]], header: Header) -> Iterator[Row]:
    columns = header.columns
    for chunk in chunks:
        for values in csv.reader([line.decode("utf-8") for line in chunk], strict=True):
            yield dict(zip(columns, values, strict=True))


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


# --- The same columns in SQL (the COPY path) ----------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_unite_legale(v: Callable[[str], str]) -> dict[str, str]:
    """`unite_legale_from_row` in SQL; `v(column)` is the cleaned value of a column."""
    first_name = f"coalesce(nullif({v('prenomUsuelUniteLegale')}, ''), {v('prenom1UniteLegale')})"
    last_name = f"coalesce(nullif({v('nomUsageUniteLegale')}, ''), {v('nomUniteLegale')})"
    person = f"concat_ws(' ', nullif({first_name}, ''), nullif({last_name}, ''))"
    name = (
        f"coalesce(nullif({v('denominationUniteLegale')}, ''), "
        f"nullif({v('denominationUsuelle1UniteLegale')}, ''), {person})"
    )
    return {
        "siren": v("siren"),
        "name": f"left({name}, 255)",
        "is_active": f"({v('etatAdministratifUniteLegale')} <> 'C')",
    }


def _sql_etablissement(v: Callable[[str], str]) -> dict[str, str]:
    """`etablissement_from_row` in SQL; `v(column)` is the cleaned value of a column."""
    street_types = _sql_text(json.dumps(STREET_TYPES))
    repetitions = _sql_text(json.dumps(REPETITION_INDEX))
    kind = v("typeVoieEtablissement")
    index = v("indiceRepetitionEtablissement")
    street = (
        "concat_ws(' ', "
        f"nullif({v('numeroVoieEtablissement')}, ''), "
        f"nullif(coalesce({repetitions}::jsonb ->> {index}, {index}), ''), "
        f"nullif(coalesce({street_types}::jsonb ->> {kind}, {kind}), ''), "
        f"nullif({v('libelleVoieEtablissement')}, ''))"
    )
    address = (
        f"concat_ws(', ', nullif({street}, ''), "
        f"nullif({v('complementAdresseEtablissement')}, ''), "
        f"nullif({v('distributionSpecialeEtablissement')}, ''))"
    )
    abroad = (
        f"concat_ws(' ', nullif({v('libelleCommuneEtrangerEtablissement')}, ''), "
        f"nullif({v('libellePaysEtrangerEtablissement')}, ''))"
    )
    commune = f"coalesce(nullif({v('libelleCommuneEtablissement')}, ''), {abroad})"
    enseigne = (
        f"coalesce(nullif({v('enseigne1Etablissement')}, ''), "
        f"{v('denominationUsuelleEtablissement')})"
    )
    return {
        "siret": v("siret"),
        "siren": v("siren"),
        "enseigne": f"left({enseigne}, 255)",
        "address": f"left({address}, 255)",
        "postcode": f"left({v('codePostalEtablissement')}, 10)",
        "commune": f"left({commune}, 255)",
        "is_head_office": f"(lower({v('etablissementSiege')}) = 'true')",
        "is_active": f"({v('etatAdministratifEtablissement')} <> 'F')",
    }


# --- Writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What is imported: a table, its key, the columns a file must have, how a row is built."""

    model: type[models.Model]
    key: str
    required: tuple[str, ...]
    known: frozenset[str]
    build: Callable[[Row], dict[str, Any]]
    sql: Callable[[Callable[[str], str]], dict[str, str]]


UNITES_LEGALES = Kind(
    model=SireneUniteLegale,
    key="siren",
    required=UNITE_LEGALE_COLUMNS,
    known=INSEE_UNITE_LEGALE_COLUMNS,
    build=unite_legale_from_row,
    sql=_sql_unite_legale,
)
ETABLISSEMENTS = Kind(
    model=SireneEtablissement,
    key="siret",
    required=ETABLISSEMENT_COLUMNS,
    known=INSEE_ETABLISSEMENT_COLUMNS,
    build=etablissement_from_row,
    sql=_sql_etablissement,
)


def _columns(model: type[models.Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _changed(columns: Sequence[str], key: str, table: str) -> str:
    """The upsert's condition: some column other than the key and the date differs (every
    column is NOT NULL, so `<>` is enough, on SQLite and PostgreSQL alike)."""
    quote = connection.ops.quote_name
    return " OR ".join(
        f"{quote(table)}.{quote(c)} <> excluded.{quote(c)}"
        for c in columns
        if c not in (key, "updated_at")
    )


def _on_conflict(model: type[models.Model], key: str) -> str:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    columns = _columns(model)
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c != key)
    return (
        f"ON CONFLICT ({quote(key)}) DO UPDATE SET {updates} WHERE {_changed(columns, key, table)}"
    )


def _upsert_sql(model: type[models.Model], key: str, rows: int) -> str:
    """INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE … WHERE (changed), for `rows` rows.

    The same statement works on SQLite (3.24+) and PostgreSQL. Written by hand because Django's
    bulk_create(update_conflicts=True) spends most of an import compiling SQL (see
    docs/companies.md for the figures).
    """
    quote = connection.ops.quote_name
    columns = _columns(model)
    values = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * rows)
    # Identifiers come from the model and are quoted; values are parameters.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {values} {_on_conflict(model, key)}"
    )


def _upsert_unnest_sql(model: type[models.Model], key: str) -> str:
    """PostgreSQL: the whole batch as one array per column (9 parameters, whatever the rows)."""
    quote = connection.ops.quote_name
    fields = model._meta.concrete_fields
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) {_on_conflict(model, key)}"
    )


def _rows_per_statement(columns: int) -> int:
    max_params = connection.features.max_query_params or 65535
    return max(1, min(1000, max_params // columns))


def _import_batched(
    chunks: Iterator[list[bytes]],
    header: Header,
    kind: Kind,
    result: ImportResult,
    *,
    batch_size: int,
    imported_at: datetime,
    keep: Callable[[dict[str, Any]], bool] | None,
    progress: Callable[[ImportResult], None] | None,
) -> None:
    model, key = kind.model, kind.key
    columns = _columns(model)
    key_index = columns.index(key)
    per_statement = _rows_per_statement(len(columns))
    statements: dict[int, str] = {}
    unnest_sql = _upsert_unnest_sql(model, key) if connection.vendor == "postgresql" else ""
    # Keyed by SIREN/SIRET: a key twice in one batch keeps its last row, as PostgreSQL refuses
    # to upsert the same row twice in one statement (and a later batch overwrites an earlier).
    batch: dict[str, tuple[Any, ...]] = {}

    def flush() -> None:
        rows = list(batch.values())
        with transaction.atomic(), connection.cursor() as cursor:
            if unnest_sql:
                cursor.execute(unnest_sql, [list(column) for column in zip(*rows, strict=True)])
                result.written += max(cursor.rowcount, 0)
            else:
                for start in range(0, len(rows), per_statement):
                    chunk = rows[start : start + per_statement]
                    if len(chunk) not in statements:
                        statements[len(chunk)] = _upsert_sql(model, key, len(chunk))
                    cursor.execute(statements[len(chunk)], [v for row in chunk for v in row])
                    result.written += max(cursor.rowcount, 0)
        result.batches += 1
        batch.clear()
        if progress:
            progress(result)

    stamp = connection.ops.adapt_datetimefield_value(imported_at)
    for row in _rows(chunks, header):
        values = kind.build(row)
        if not values[key] or (keep and not keep(values)):
            continue
        values["updated_at"] = stamp
        row_values = tuple(values[c] for c in columns)
        batch[row_values[key_index]] = row_values
        result.rows += 1
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()


STAGING = "sirene_staging"


def _merge_sql(header: Header, kind: Kind, *, active_only: bool, deduplicate: bool) -> str:
    """One statement: the staging table's lines, cleaned and computed as `kind.build` does,
    merged into the table (a line whose key comes twice: the last one wins — the staging table
    is only ever appended to, by one COPY, so its rows' physical order, ctid, is the file's)."""
    quote = connection.ops.quote_name
    needed = sorted(set(kind.required))
    cleaned = ", ".join(f"{_sql_clean(header, name)} AS {quote(name)}" for name in needed)
    exprs = kind.sql(quote)
    columns = _columns(kind.model)
    select = ", ".join("%s" if c == "updated_at" else f"{exprs[c]} AS {quote(c)}" for c in columns)
    key_expr = exprs[kind.key]
    where = f"{key_expr} <> ''" + (f" AND {exprs['is_active']}" if active_only else "")
    # OFFSET 0 keeps the subquery apart, so that each column is cleaned once per line.
    source = f"(SELECT ctid AS line, {cleaned} FROM {STAGING} OFFSET 0) AS v"  # noqa: S608
    if deduplicate:
        body = (
            f"SELECT DISTINCT ON ({key_expr}) {select} FROM {source} WHERE {where} "  # noqa: S608
            f"ORDER BY {key_expr}, line DESC"
        )
    else:
        body = f"SELECT {select} FROM {source} WHERE {where}"  # noqa: S608
    return (
        f"INSERT INTO {quote(kind.model._meta.db_table)} "
        f"({', '.join(quote(c) for c in columns)}) {body} {_on_conflict(kind.model, kind.key)}"
    )


def _sql_clean(header: Header, name: str) -> str:
    """`_value` in SQL: the staging column of `name`, stripped, "[ND]" made empty (an empty
    unquoted field is NULL after COPY: empty too)."""
    blanks = "E' \\t\\n\\r\\f\\x0B'"  # WHITESPACE
    column = f"c{header.index(name)}"
    return f"coalesce(nullif(btrim({column}, {blanks}), '{NOT_DIFFUSIBLE}'), '')"


def _count_sql(header: Header, kind: Kind, *, active_only: bool) -> str:
    exprs = kind.sql(lambda name: _sql_clean(header, name))
    where = f"{exprs[kind.key]} <> ''" + (f" AND {exprs['is_active']}" if active_only else "")
    return f"SELECT count(*) FROM {STAGING} WHERE {where}"  # noqa: S608


def _import_copy(
    chunks: Iterator[list[bytes]],
    header: Header,
    kind: Kind,
    result: ImportResult,
    *,
    imported_at: datetime,
    active_only: bool,
    progress: Callable[[ImportResult], None] | None,
) -> None:
    """PostgreSQL: COPY the checked lines into a temporary table, then merge in one statement;
    all in one transaction."""
    columns = ", ".join(f"c{i} text" for i in range(len(header.columns)))
    names = ", ".join(f"c{i}" for i in range(len(header.columns)))
    copied = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropped at commit, or at the end here when this runs inside a caller's transaction.
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGING} ({columns}) ON COMMIT DROP")
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        with raw.copy(f"COPY {STAGING} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for chunk in chunks:
                copy.write(b"\n".join(chunk) + b"\n")
                copied += len(chunk)
                result.batches += 1
                if progress:
                    result.rows = copied
                    progress(result)
        cursor.execute(_count_sql(header, kind, active_only=active_only))
        result.rows = int(cursor.fetchone()[0])
        stamp = connection.ops.adapt_datetimefield_value(imported_at)
        try:
            with transaction.atomic():
                cursor.execute(
                    _merge_sql(header, kind, active_only=active_only, deduplicate=False), [stamp]
                )
        except DatabaseError as exc:
            # "ON CONFLICT DO UPDATE command cannot affect row a second time": a key twice in
            # the file (never in INSEE's stock; possible in a file of changes). Merge again,
            # keeping each key's last line.
            if getattr(exc.__cause__, "sqlstate", None) != "21000":
                raise
            cursor.execute(
                _merge_sql(header, kind, active_only=active_only, deduplicate=True), [stamp]
            )
        result.written = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {STAGING}")


def _import(
    path: Path | str,
    *,
    kind: Kind,
    batch_size: int,
    method: str,
    active_only: bool = False,
    imported_at: datetime | None = None,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "batched"
    if method == "copy" and connection.vendor != "postgresql":
        raise ValueError("The COPY import needs PostgreSQL.")
    result = ImportResult(method=method)
    started = time.monotonic()
    imported_at = imported_at or timezone.now()
    with open_stock_file(path) as stream:
        header = _read_header(stream, kind.required, kind.known)
        result.unknown_columns = header.unknown
        chunks = _checked_lines(stream, header, result)
        if method == "copy":
            _import_copy(
                chunks,
                header,
                kind,
                result,
                imported_at=imported_at,
                active_only=active_only,
                progress=progress,
            )
        else:
            _import_batched(
                chunks,
                header,
                kind,
                result,
                batch_size=batch_size,
                imported_at=imported_at,
                keep=(lambda values: values["is_active"]) if active_only else None,
                progress=progress,
            )
    if kind is ETABLISSEMENTS:
        result.closures = record_closures(imported_at)
    result.seconds = time.monotonic() - started
    return result


def import_unites_legales(
    path: Path | str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    method: str = "auto",
    imported_at: datetime | None = None,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """A StockUniteLegale file (or a file of changes in its format)."""
    return _import(
        path,
        kind=UNITES_LEGALES,
        batch_size=batch_size,
        method=method,
        imported_at=imported_at,
        progress=progress,
    )


def import_etablissements(
    path: Path | str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    active_only: bool = False,
    method: str = "auto",
    imported_at: datetime | None = None,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """A StockEtablissement file, or a file of changes in its format ("mises à jour").

    `method`: "auto" (COPY on PostgreSQL, batches on SQLite), "copy" or "batched"."""
    return _import(
        path,
        kind=ETABLISSEMENTS,
        batch_size=batch_size,
        method=method,
        active_only=active_only,
        imported_at=imported_at,
        progress=progress,
    )


def record_closures(detected_at: datetime | None = None) -> int:
    """Notes every establishment of the portal still open here that the registry says closed,
    once (an `EstablishmentClosure` waiting for the back-office); returns how many.

    Read from the tables, not from the file: an import interrupted after its rows were written
    is caught up by the next one. The portal's establishments are few (thousands), the registry's
    many: each is looked up by its key."""
    closed_in_registry = SireneEtablissement.objects.filter(
        siret=OuterRef("siret"), is_active=False
    )
    waiting = EstablishmentClosure.objects.pending().filter(establishment=OuterRef("pk"))
    newly_closed = list(
        Establishment.objects.filter(is_active=True)
        .filter(Exists(closed_in_registry))
        .exclude(Exists(waiting))
        .values_list("pk", flat=True)
    )
    now = detected_at or timezone.now()
    EstablishmentClosure.objects.bulk_create(
        [EstablishmentClosure(establishment_id=pk, detected_at=now) for pk in newly_closed],
        ignore_conflicts=True,
    )
    return len(newly_closed)
