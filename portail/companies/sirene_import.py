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

Each kept line becomes a row of our columns in Python (`etablissement_from_values`,
`unite_legale_from_values`: the one definition of what is kept), then two ways of writing
(docs/companies.md, decision 0022):

- PostgreSQL: the rows are streamed with `COPY … FROM STDIN`, all in one transaction (the file is
  applied whole or not at all): into an empty table straight into it, the server storing rows
  while Python builds the next ones; otherwise into a temporary table, then ONE statement merges
  them (each key once, unchanged rows left alone).
- SQLite (and PostgreSQL when asked, `method="batched"`): the rows are upserted in batches (one
  transaction per batch).

Both give the same rows, column for column (a test imports the same files both ways). After the
establishments, `record_closures` notes every establishment of the portal that the registry now
says closed (`EstablishmentClosure`); the back-office reacts to those rows (a housekeeping chore).
"""

from __future__ import annotations

import csv
import gc
import gzip
import itertools
import operator
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from portail.companies.models import (
    Establishment,
    EstablishmentClosure,
    SireneEtablissement,
    SireneUniteLegale,
)
from portail.companies.sirene_columns import (
    INSEE_ETABLISSEMENT_COLUMNS,
    INSEE_UNITE_LEGALE_COLUMNS,
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


# A checked line: its text when it holds no quote (its fields are split on commas), else its
# fields as the `csv` module read them.
Line = str | list[str]


def _recheck(
    lines: Sequence[str | bytes], doubtful: list[int], first: int, fields: int, result: ImportResult
) -> list[Line]:
    """`lines` (the first being line `first` of the file; decoded, or bytes still to decode)
    with the `doubtful` ones checked: kept, parsed, or refused; empty lines left out.

    The lines holding quotes are parsed by one strict `csv` reader. An odd number of quotes is
    refused first: such a line would run into the next one."""
    kept: list[Line] = [line if isinstance(line, str) else "" for line in lines]
    quoted: list[tuple[int, str]] = []
    for i in doubtful:
        body = lines[i]
        kept[i] = ""
        if not body:
            continue
        try:
            text = body if isinstance(body, str) else body.decode("utf-8")
        except UnicodeDecodeError:
            result.refuse(first + i, INVALID_UTF8)
            continue
        if "\r" in text or "\x00" in text:
            result.refuse(first + i, CONTROL)
        elif '"' not in text:
            count = text.count(",") + 1
            if count == fields:
                kept[i] = text
            else:
                result.refuse(first + i, _wrong_count(count, fields))
        elif text.count('"') % 2:
            result.refuse(first + i, BAD_QUOTES)
        else:
            quoted.append((i, text))
    if quoted:
        _parse_quoted_into(quoted, kept, first, fields, result)
    return [line for line in kept if line]


def _parse_quoted_into(
    quoted: list[tuple[int, str]], kept: list[Line], first: int, fields: int, result: ImportResult
) -> None:
    """The lines holding quotes (index, text), parsed into `kept`, or refused."""
    for (i, _), values in zip(quoted, _parse_quoted([t for _, t in quoted]), strict=True):
        if values is None:
            result.refuse(first + i, BAD_QUOTES)
        elif len(values) == fields:
            kept[i] = values
        else:
            result.refuse(first + i, _wrong_count(len(values), fields))


@dataclass(frozen=True)
class Chunk:
    """Checked lines of a file, without their line ends."""

    lines: list[Line]
    escapes: bool  # some line holds a backslash or a tab (COPY's text format escapes them)


def _checked_lines(stream: ByteStream, header: Header, result: ImportResult) -> Iterator[Chunk]:
    """The file's data lines, in chunks, each line checked and without its line end; a bad line
    is refused (`result.refuse`, with its number) and left out. Both ways of importing read these
    same lines.

    A line is refused when it is not UTF-8, holds a NUL or a carriage return (other than a
    CRLF line end), has a quote left open or misplaced, has more or fewer fields than the header
    (a truncated line), or is the last one and lacks its line end (the file was cut). Records
    never span lines in INSEE's files: a quoted line break is refused too.

    The file is read by blocks of a few megabytes: a block that is UTF-8 and holds no NUL or
    stray carriage return is decoded and checked at once, and only its lines holding a quote or
    the wrong number of commas are looked at one by one.
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
        first = number + 1
        number += block.count(b"\n") + 1
        try:
            text: str | None = block.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        escapes = b"\\" in block or b"\t" in block  # one byte each: memchr, fast
        if text is not None and "\x00" not in text and "\r" not in text:
            texts = text.split("\n")
            doubtful = [
                i for i, line in enumerate(texts) if '"' in line or line.count(",") != commas
            ]
            lines: list[Line] = texts  # type: ignore[assignment]  # list is invariant; read only
            if doubtful:
                lines = _recheck(texts, doubtful, first, fields, result)
        else:
            raw = block.split(b"\n")
            lines = _recheck(raw, list(range(len(raw))), first, fields, result)
        if lines:
            yield Chunk(lines, escapes)
    if pending.strip(b"\r\n"):
        result.refuse(number + 1, "ligne incomplète : le fichier s’arrête au milieu de la ligne.")


# --- From checked lines to rows ------------------------------------------------------------


def _picked(chunk: Chunk, header: Header, columns: Sequence[str]) -> list[tuple[str, ...]]:
    """Each line's values of `columns` (in that order), as the portal keeps them: stripped,
    "[ND]" (not diffusible) made empty.

    The hot loop of an import of 40 million lines: a line without quotes is split on its commas
    (`_checked_lines` made sure it has the header's count), a line with quotes was parsed by the
    `csv` module."""
    pick = operator.itemgetter(*(header.index(column) for column in columns))
    blanks = [WHITESPACE] * len(columns)  # str.strip's argument, for map()
    strip = str.strip
    picked: list[tuple[str, ...]] = []
    append = picked.append
    for line in chunk.lines:
        values = tuple(map(strip, pick(line.split(",") if isinstance(line, str) else line), blanks))
        if NOT_DIFFUSIBLE in values:
            values = tuple(["" if value == NOT_DIFFUSIBLE else value for value in values])
        append(values)
    return picked


def unite_legale_from_values(values: Sequence[str]) -> tuple[Any, ...]:
    """Our columns (`UNITES_LEGALES.columns`) from the values of UNITE_LEGALE_COLUMNS."""
    (siren, etat, denomination, denomination_usuelle, nom, nom_usage, prenom, prenom_usuel) = values
    name = denomination or denomination_usuelle
    if not name:  # a person (entrepreneur individuel): first name and name
        name = " ".join([part for part in (prenom_usuel or prenom, nom_usage or nom) if part])
    return (siren, name[:255], etat != "C")


def etablissement_from_values(values: Sequence[str]) -> tuple[Any, ...]:
    """Our columns (`ETABLISSEMENTS.columns`) from the values of ETABLISSEMENT_COLUMNS: the
    address on one line ('12 BIS AVENUE DU LIVRE, BATIMENT A, BP 12'), the commune (or the
    foreign town and country), the sign (or the usual name)."""
    (
        siren,
        siret,
        siege,
        etat,
        complement,
        numero,
        indice,
        type_voie,
        libelle,
        distribution,
        postcode,
        commune,
        commune_etranger,
        pays_etranger,
        enseigne,
        denomination,
    ) = values
    street = " ".join(
        filter(
            None,
            (
                numero,
                REPETITION_INDEX.get(indice, indice),
                STREET_TYPES.get(type_voie, type_voie),
                libelle,
            ),
        )
    )
    address = ", ".join(filter(None, (street, complement, distribution)))
    if not commune:  # abroad
        commune = " ".join(filter(None, (commune_etranger, pays_etranger)))
    return (
        siret,
        siren,
        (enseigne or denomination)[:255],
        address[:255],
        postcode[:10],
        commune[:255],
        siege.lower() == "true",
        etat != "F",
    )


# --- Writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What is imported: a table, the columns a file must have (read in that order), how our
    columns (`columns`, the key first, `updated_at` added) are built from them."""

    model: type[models.Model]
    required: tuple[str, ...]
    known: frozenset[str]
    columns: tuple[str, ...]
    build: Callable[[Sequence[str]], tuple[Any, ...]]

    @property
    def key(self) -> str:
        return self.columns[0]

    @property
    def table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    def fields(self) -> list[models.Field[Any, Any]]:
        """Our columns' fields, `updated_at` last."""
        by_name = {f.name: f for f in self.model._meta.concrete_fields}
        return [by_name[c] for c in (*self.columns, "updated_at")]

    @property
    def flags(self) -> int:
        """How many of our last columns are booleans."""
        return sum(1 for f in self.fields() if f.get_internal_type() == "BooleanField")

    def column_list(self) -> str:
        return ", ".join(connection.ops.quote_name(c) for c in (*self.columns, "updated_at"))


UNITES_LEGALES = Kind(
    model=SireneUniteLegale,
    required=UNITE_LEGALE_COLUMNS,
    known=frozenset(INSEE_UNITE_LEGALE_COLUMNS),
    columns=("siren", "name", "is_active"),
    build=unite_legale_from_values,
)
ETABLISSEMENTS = Kind(
    model=SireneEtablissement,
    required=ETABLISSEMENT_COLUMNS,
    known=frozenset(INSEE_ETABLISSEMENT_COLUMNS),
    columns=(
        "siret",
        "siren",
        "enseigne",
        "address",
        "postcode",
        "commune",
        "is_head_office",
        "is_active",
    ),
    build=etablissement_from_values,
)


Rows = list[tuple[Any, ...]]  # our columns, without `updated_at`


def _records(
    chunks: Iterator[Chunk], header: Header, kind: Kind, *, active_only: bool
) -> Iterator[tuple[Rows, Chunk]]:
    """Per chunk, the rows to write: lines without a key, and closed establishments with
    `active_only`, left out."""
    build = kind.build
    for chunk in chunks:
        rows = [row for row in map(build, _picked(chunk, header, kind.required)) if row[0]]
        if active_only:
            rows = [row for row in rows if row[-1]]
        yield rows, chunk


def _on_conflict(kind: Kind) -> str:
    """`ON CONFLICT (key) DO UPDATE … WHERE (something changed)`: an unchanged row is not
    rewritten. Every column is NOT NULL, so `<>` is enough, on SQLite and PostgreSQL alike."""
    quote = connection.ops.quote_name
    key, table = quote(kind.key), kind.table
    others = [quote(c) for c in kind.columns[1:]]
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*others, quote("updated_at")))
    changed = " OR ".join(f"{table}.{c} <> excluded.{c}" for c in others)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates} WHERE {changed}"


def _upsert_sql(kind: Kind, rows: int) -> str:
    """INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE … WHERE (changed), for `rows` rows.

    The same statement works on SQLite (3.24+) and PostgreSQL. Written by hand because Django's
    bulk_create(update_conflicts=True) spends most of an import compiling SQL (see
    docs/companies.md for the figures).
    """
    values = ", ".join([f"({', '.join(['%s'] * (len(kind.columns) + 1))})"] * rows)
    # Identifiers come from the model and are quoted; values are parameters.
    return (
        f"INSERT INTO {kind.table} ({kind.column_list()}) "  # noqa: S608
        f"VALUES {values} {_on_conflict(kind)}"
    )


def _upsert_unnest_sql(kind: Kind) -> str:
    """PostgreSQL: the whole batch as one array per column (9 parameters, whatever the rows)."""
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in kind.fields())
    return (
        f"INSERT INTO {kind.table} ({kind.column_list()}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) {_on_conflict(kind)}"
    )


def _rows_per_statement(columns: int) -> int:
    max_params = connection.features.max_query_params or 65535
    return max(1, min(1000, max_params // columns))


def _import_batched(
    records: Iterator[tuple[Rows, Chunk]],
    kind: Kind,
    result: ImportResult,
    *,
    batch_size: int,
    imported_at: datetime,
    progress: Callable[[ImportResult], None] | None,
) -> None:
    per_statement = _rows_per_statement(len(kind.columns) + 1)
    statements: dict[int, str] = {}
    unnest_sql = _upsert_unnest_sql(kind) if connection.vendor == "postgresql" else ""
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
                        statements[len(chunk)] = _upsert_sql(kind, len(chunk))
                    cursor.execute(statements[len(chunk)], [v for row in chunk for v in row])
                    result.written += max(cursor.rowcount, 0)
        result.batches += 1
        batch.clear()
        if progress:
            progress(result)

    stamp = connection.ops.adapt_datetimefield_value(imported_at)
    for rows, _ in records:
        for row in rows:
            batch[row[0]] = (*row, stamp)
            result.rows += 1
            if len(batch) >= batch_size:
                flush()
    if batch:
        flush()


STAGING = "sirene_staging"


def _merge_sql(kind: Kind) -> str:
    """The staging table's rows merged into the table, in one statement.

    Each key once, its last line winning (the staging table is only ever appended to, by one
    COPY, so its rows' physical order, ctid, is the file's): a file of changes may name an
    establishment twice, and `ON CONFLICT` cannot change a row twice. The rows sorted by key are
    then joined with the table and only those that are new or differ go on to the upsert: a
    monthly stock is mostly unchanged, and an upsert that changes nothing still costs a
    speculative insertion per row (decision 0022)."""
    quote = connection.ops.quote_name
    columns = kind.column_list()
    key = quote(kind.key)
    differs = " OR ".join(f"o.{quote(c)} <> n.{quote(c)}" for c in kind.columns[1:])
    return (
        f"INSERT INTO {kind.table} ({columns}) "  # noqa: S608
        f"SELECT n.* FROM (SELECT DISTINCT ON ({key}) {columns} FROM {STAGING} "
        f"ORDER BY {key}, ctid DESC) AS n "
        f"LEFT JOIN {kind.table} AS o ON o.{key} = n.{key} WHERE o.{key} IS NULL OR {differs} "
        f"{_on_conflict(kind)}"
    )


def _escape(value: Any) -> Any:
    """A value for COPY's text format (a line end never reaches here: lines are checked)."""
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t")
    return value


def _copy_rows(
    cursor: Any,
    table: str,
    records: Iterator[tuple[Rows, Chunk]],
    kind: Kind,
    result: ImportResult,
    *,
    imported_at: datetime,
    progress: Callable[[ImportResult], None] | None,
) -> None:
    """COPY the rows into `table` in COPY's text format, written here: a tab between values,
    `t`/`f` for the flags (our last columns), the import's date last. The Python and the server
    work at the same time: the rows of one chunk are built while the server stores the last."""
    texts = len(kind.columns) - kind.flags
    flags = {
        values: "".join("\tt" if value else "\tf" for value in values)
        for values in itertools.product((False, True), repeat=kind.flags)
    }
    tail = f"\t{imported_at.isoformat()}\n"
    join = "\t".join
    # The queued writer hands each block to a thread that sends it, so that building the next
    # rows never waits for the socket.
    sql = f"COPY {table} ({kind.column_list()}) FROM STDIN"
    with cursor.copy(sql, writer=psycopg.copy.QueuedLibpqWriter(cursor)) as copy:
        for rows, chunk in records:
            escaped = [tuple(map(_escape, row)) for row in rows] if chunk.escapes else rows
            copy.write(
                "".join([join(r[:texts]) + flags[r[texts:]] + tail for r in escaped]).encode()
            )
            result.rows += len(rows)
            result.batches += 1
            if progress:
                progress(result)


def _import_copy(
    read: Callable[[ImportResult], ContextManager[Iterator[tuple[Rows, Chunk]]]],
    kind: Kind,
    result: ImportResult,
    *,
    imported_at: datetime,
    progress: Callable[[ImportResult], None] | None,
) -> ImportResult:
    """PostgreSQL: the rows, built in Python as for the batched import, written by COPY; the
    whole file in one transaction.

    Into an empty table (the first stock import) straight into it: the server stores the rows
    while Python builds the next ones, and nothing is left to do at the end. Should a key come
    twice (never in INSEE's stock), the unique index stops the COPY and the file is read again
    the other way. Otherwise, into a temporary table shaped like ours, then merged in one
    statement (`_merge_sql`)."""
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {kind.table})")  # noqa: S608
        if cursor.fetchone()[0]:
            try:
                with transaction.atomic(), read(result) as records:
                    _copy_rows(
                        raw,
                        kind.table,
                        records,
                        kind,
                        result,
                        imported_at=imported_at,
                        progress=progress,
                    )
                result.written = result.rows
                return result
            except psycopg.errors.UniqueViolation:
                result = ImportResult(method=result.method)  # what was counted is read again
        # Dropped at commit, or at the end here when this runs inside a caller's transaction.
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {kind.column_list()} FROM {kind.table} WITH NO DATA"
        )
        with read(result) as records:
            _copy_rows(
                raw, STAGING, records, kind, result, imported_at=imported_at, progress=progress
            )
        cursor.execute(_merge_sql(kind))
        result.written = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {STAGING}")
    return result


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a file is read: the rows are tuples of strings,
    which make no cycles, yet each block's tens of thousands of tuples would set it walking
    them again and again (a sixth of the import's Python time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    started = time.monotonic()
    imported_at = imported_at or timezone.now()

    @contextmanager
    def read(result: ImportResult) -> Iterator[Iterator[tuple[Rows, Chunk]]]:
        with open_stock_file(path) as stream, _cyclic_gc_paused():
            header = _read_header(stream, kind.required, kind.known)
            result.unknown_columns = header.unknown
            chunks = _checked_lines(stream, header, result)
            yield _records(chunks, header, kind, active_only=active_only)

    result = ImportResult(method=method)
    if method == "copy":
        result = _import_copy(read, kind, result, imported_at=imported_at, progress=progress)
    else:
        with read(result) as records:
            _import_batched(
                records,
                kind,
                result,
                batch_size=batch_size,
                imported_at=imported_at,
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
