"""Files of changes (INSEE's daily "mises à jour"), bad lines, closures found, and the COPY import
on PostgreSQL giving the same rows as the batched one."""

import csv
import gzip
import io
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from portail.companies import sirene_import
from portail.companies.models import (
    EstablishmentClosure,
    SireneEtablissement,
    SireneUniteLegale,
)
from tests.factories import EstablishmentFactory, make_siren, make_siret

pytestmark = pytest.mark.django_db

ET_COLUMNS = [*sirene_import.ETABLISSEMENT_COLUMNS, "nic", "dateDebut"]
UL_COLUMNS = [*sirene_import.UNITE_LEGALE_COLUMNS, "categorieJuridiqueUniteLegale"]
SIREN = make_siren(700000)
# COPY FROM STDIN is PostgreSQL's: SQLite imports in batches only.
COPY_NEEDS_POSTGRESQL = pytest.mark.postgres_only(
    reason="the COPY import needs PostgreSQL: run with DATABASE_URL=postgres://…"
)


def siret(n):
    return make_siret(SIREN, n)


def etablissement(n, **values):
    row = dict.fromkeys(ET_COLUMNS, "")
    row.update(
        siren=SIREN,
        siret=siret(n),
        nic=siret(n)[9:],
        etablissementSiege="true" if n == 1 else "false",
        etatAdministratifEtablissement="A",
        numeroVoieEtablissement=str(n),
        typeVoieEtablissement="BD",
        libelleVoieEtablissement="DES ESSAIS",
        codePostalEtablissement="44000",
        libelleCommuneEtablissement="NANTES",
    )
    row.update(values)
    return row


def write(path, rows, columns=ET_COLUMNS):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def rows_of(model):
    fields = [f.attname for f in model._meta.concrete_fields]
    return sorted(model.objects.values_list(*fields))


def test_a_file_of_changes_updates_the_rows_it_names_and_leaves_the_others(tmp_path):
    sirene_import.import_etablissements(
        write(tmp_path / "stock.csv", [etablissement(n) for n in range(1, 6)])
    )
    before = SireneEtablissement.objects.get(siret=siret(5)).updated_at
    changes = [
        etablissement(2, etatAdministratifEtablissement="F"),
        etablissement(3, libelleVoieEtablissement="DU PORT", indiceRepetitionEtablissement="B"),
        etablissement(9),  # a new establishment
    ]
    result = sirene_import.import_etablissements(write(tmp_path / "changes.csv", changes))
    assert (result.rows, result.written, result.refused) == (3, 3, 0)
    assert SireneEtablissement.objects.count() == 6
    assert SireneEtablissement.objects.get(siret=siret(2)).is_active is False
    assert SireneEtablissement.objects.get(siret=siret(3)).address == "3 BIS BOULEVARD DU PORT"
    assert SireneEtablissement.objects.get(siret=siret(5)).updated_at == before

    # The same file again changes nothing: no row is rewritten.
    again = sirene_import.import_etablissements(tmp_path / "changes.csv")
    assert (again.rows, again.written) == (3, 0)


def test_an_establishment_of_the_portal_found_closed_is_noted_once(tmp_path):
    site = EstablishmentFactory(siren=SIREN, siret=siret(2), is_head_office=False)
    other = EstablishmentFactory(siren=SIREN, siret=siret(3), is_head_office=False)
    sirene_import.import_etablissements(
        write(tmp_path / "stock.csv", [etablissement(n) for n in range(1, 4)])
    )
    assert not EstablishmentClosure.objects.exists()

    # Closed in the registry, not known to the portal: nothing to do.
    changes = write(
        tmp_path / "changes.csv",
        [
            etablissement(2, etatAdministratifEtablissement="F"),
            etablissement(8, etatAdministratifEtablissement="F"),
        ],
    )
    result = sirene_import.import_etablissements(changes)
    assert result.closures == 1
    closure = EstablishmentClosure.objects.get()
    assert (closure.establishment, closure.handled_at) == (site, None)

    # Importing it again notes nothing more while the closure waits.
    assert sirene_import.import_etablissements(changes).closures == 0
    assert EstablishmentClosure.objects.count() == 1
    other.refresh_from_db()
    assert other.is_active


def test_unknown_columns_are_ignored_and_named(tmp_path):
    columns = [*ET_COLUMNS, "colonneAjouteeParLInsee"]
    path = write(
        tmp_path / "changes.csv",
        [{**etablissement(1), "colonneAjouteeParLInsee": "x"}],
        columns,
    )
    result = sirene_import.import_etablissements(path)
    assert result.unknown_columns == ["colonneAjouteeParLInsee"]
    assert (result.rows, result.refused) == (1, 0)
    assert SireneEtablissement.objects.filter(siret=siret(1)).exists()


def test_a_missing_or_doubled_column_refuses_the_file_before_anything_is_written(tmp_path):
    columns = [c for c in ET_COLUMNS if c != "etatAdministratifEtablissement"]
    rows = [{c: v for c, v in etablissement(1).items() if c in columns}]
    with pytest.raises(sirene_import.SireneFileError, match="etatAdministratifEtablissement"):
        sirene_import.import_etablissements(write(tmp_path / "a.csv", rows, columns))
    path = tmp_path / "b.csv"
    path.write_text(",".join([*ET_COLUMNS, "siret"]) + "\n", encoding="utf-8")
    with pytest.raises(sirene_import.SireneFileError, match="en double"):
        sirene_import.import_etablissements(path)
    assert not SireneEtablissement.objects.exists()


def _bad_file(tmp_path):
    """Seven establishments; lines 3 (truncated), 5 (not UTF-8) and 6 (quote left open) are
    bad, line 4 holds a comma inside quotes and is good, the last line (8) is cut short."""
    path = write(tmp_path / "changes.csv", [etablissement(n) for n in range(1, 8)])
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][: len(lines[2]) // 2]  # truncated: fewer fields
    lines[3] = lines[3].replace(b"DES ESSAIS", b'"DES ESSAIS, NORD"')
    lines[4] = lines[4].replace(b"NANTES", "NANTES É".encode("latin-1"))
    lines[5] = lines[5].replace(b"DES ESSAIS", b'"DES ESSAIS')
    path.write_bytes(b"\n".join(lines[:7]) + b"\n" + lines[7][:40])  # no line end at the end
    return path


@pytest.mark.parametrize("method", ["batched", pytest.param("copy", marks=COPY_NEEDS_POSTGRESQL)])
def test_bad_lines_are_reported_by_number_and_skipped_whole(tmp_path, method):
    path = _bad_file(tmp_path)
    result = sirene_import.import_etablissements(path, method=method)
    assert [line.line for line in result.refused_lines] == [3, 5, 6, 8]
    reasons = [line.reason for line in result.refused_lines]
    assert "champs au lieu de" in reasons[0]
    assert "UTF-8" in reasons[1]
    assert "guillemets" in reasons[2]
    assert "ligne incomplète" in reasons[3]
    assert (result.rows, result.refused) == (3, 4)
    # The good lines are imported, each whole; nothing of a bad line is.
    assert set(SireneEtablissement.objects.values_list("siret", flat=True)) == {
        siret(1),
        siret(3),
        siret(6),
    }
    assert SireneEtablissement.objects.get(siret=siret(3)).address == (
        "3 BOULEVARD DES ESSAIS, NORD"
    )


def test_the_command_imports_the_good_lines_then_fails_naming_the_bad_ones(tmp_path):
    path = _bad_file(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="4 ligne"):
        call_command("import_sirene", mises_a_jour=[str(path)], stdout=out, stderr=err)
    assert "3 établissements lus" in out.getvalue()
    assert "ligne 3 :" in err.getvalue()
    assert "ligne 5 : caractères illisibles" in err.getvalue()
    assert SireneEtablissement.objects.count() == 3
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="needs PostgreSQL"):
            call_command("import_sirene", mises_a_jour=[str(path)], method="copy", stdout=out)


def _edge_cases(tmp_path):
    """A stock file with the cases the two ways of importing could read differently."""
    rows = [
        etablissement(1, complementAdresseEtablissement="  BATIMENT A  "),
        etablissement(2, libelleVoieEtablissement="[ND]", numeroVoieEtablissement="[ND]"),
        etablissement(
            3,
            libelleCommuneEtablissement="",
            libelleCommuneEtrangerEtablissement="BRUXELLES",
            libellePaysEtrangerEtablissement="BELGIQUE",
            typeVoieEtablissement="XYZ",
        ),
        etablissement(4, enseigne1Etablissement="", denominationUsuelleEtablissement='LE "LIVRE"'),
        etablissement(5, enseigne1Etablissement="É" * 300, etablissementSiege="TRUE"),
        etablissement(6, etatAdministratifEtablissement="F", indiceRepetitionEtablissement="Q"),
        etablissement(7, siret=""),  # no key: skipped
        etablissement(8, distributionSpecialeEtablissement="BP 12", codePostalEtablissement=""),
        etablissement(9, libelleVoieEtablissement="DU PORT, QUAI SUD"),
        # What COPY's text format must escape.
        etablissement(13, enseigne1Etablissement="C:\\ATELIER\\N"),
        etablissement(14, complementAdresseEtablissement="BAT\tB"),
    ]
    stock = write(tmp_path / "stock.csv", rows)
    # Quotes inside an unquoted field: kept as they are. One quote alone is refused (it would
    # open a field).
    with stock.open("a", encoding="utf-8") as f:
        for n, enseigne in ((11, 'L"AT"ELIER'), (12, 'L"ATELIER')):
            raw = etablissement(n, enseigne1Etablissement=enseigne)
            f.write(",".join(raw[c] for c in ET_COLUMNS) + "\n")
    changes = write(
        tmp_path / "changes.csv",
        [
            etablissement(2, etatAdministratifEtablissement="F"),
            etablissement(3, numeroVoieEtablissement="12"),
            etablissement(3, numeroVoieEtablissement="14"),  # twice: the last line wins
            etablissement(10),
        ],
    )
    ul = write(
        tmp_path / "ul.csv",
        [
            {**dict.fromkeys(UL_COLUMNS, ""), "siren": SIREN, "denominationUniteLegale": "SA"},
            {
                **dict.fromkeys(UL_COLUMNS, ""),
                "siren": make_siren(700001),
                "prenom1UniteLegale": "MARIE",
                "nomUniteLegale": " DURAND ",
                "etatAdministratifUniteLegale": "C",
            },
            {
                **dict.fromkeys(UL_COLUMNS, ""),
                "siren": make_siren(700002),
                "nomUniteLegale": "[ND]",
            },
        ],
        UL_COLUMNS,
    )
    return stock, changes, ul


@COPY_NEEDS_POSTGRESQL
def test_copy_and_batched_imports_give_the_same_rows(tmp_path):
    stock, changes, ul = _edge_cases(tmp_path)
    EstablishmentFactory(siren=SIREN, siret=siret(2), is_head_office=False)
    at = datetime(2024, 6, 3, 4, 5, 6, tzinfo=UTC)
    seen = {}
    for method in ("batched", "copy"):
        SireneEtablissement.objects.all().delete()
        SireneUniteLegale.objects.all().delete()
        EstablishmentClosure.objects.all().delete()
        results = [
            sirene_import.import_unites_legales(ul, method=method, imported_at=at),
            sirene_import.import_etablissements(stock, method=method, imported_at=at),
            sirene_import.import_etablissements(changes, method=method, imported_at=at),
        ]
        assert [r.method for r in results] == [method] * 3
        seen[method] = (
            rows_of(SireneUniteLegale),
            rows_of(SireneEtablissement),
            sorted(EstablishmentClosure.objects.values_list("establishment__siret", flat=True)),
            [(r.rows, r.written, r.refused, r.closures) for r in results],
        )
    assert seen["copy"] == seen["batched"]
    unites, etablissements, closures, counts = seen["copy"]
    assert len(unites) == 3
    assert len(etablissements) == 12  # 11 with a SIRET in the stock, 1 new
    assert closures == [siret(2)]
    assert counts == [(3, 3, 0, 0), (11, 11, 1, 0), (4, 3, 0, 1)]
    by_siret = {row[5]: row for row in etablissements}
    assert by_siret[siret(3)][0] == "14 BOULEVARD DES ESSAIS"  # the last line of the two
    assert len(by_siret[siret(5)][7]) == 255
    assert by_siret[siret(11)][7] == 'L"AT"ELIER'
    assert by_siret[siret(13)][7] == "C:\\ATELIER\\N"
    assert by_siret[siret(14)][0] == "14 BOULEVARD DES ESSAIS, BAT\tB"


@COPY_NEEDS_POSTGRESQL
def test_copy_import_of_a_gzip_with_crlf_line_ends(tmp_path):
    path = write(tmp_path / "s.csv", [etablissement(n) for n in range(1, 4)])
    gz = tmp_path / "s.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes().replace(b"\n", b"\r\n")))
    result = sirene_import.import_etablissements(gz, method="copy", active_only=True)
    assert (result.rows, result.refused) == (3, 0)
    assert SireneEtablissement.objects.get(siret=siret(1)).commune == "NANTES"


@COPY_NEEDS_POSTGRESQL
def test_copy_import_into_an_empty_table_keeps_a_doubled_key_last_and_again_writes_nothing(
    tmp_path,
):
    """The first import is a plain INSERT; a key twice makes it fall back on the merge that
    keeps the last line. The same file again: every row is there and unchanged, none written."""
    rows = [etablissement(n) for n in range(1, 5)]
    path = write(tmp_path / "s.csv", [*rows, etablissement(2, numeroVoieEtablissement="99")])
    assert not SireneEtablissement.objects.exists()

    first = sirene_import.import_etablissements(path, method="copy")
    assert (first.rows, first.written) == (5, 4)
    assert SireneEtablissement.objects.get(siret=siret(2)).address == "99 BOULEVARD DES ESSAIS"

    again = sirene_import.import_etablissements(path, method="copy")
    assert (again.rows, again.written) == (5, 0)
    one_changed = write(
        tmp_path / "c.csv", [rows[0], etablissement(3, numeroVoieEtablissement="7")]
    )
    changed = sirene_import.import_etablissements(one_changed, method="copy")
    assert (changed.rows, changed.written) == (2, 1)
    assert SireneEtablissement.objects.get(siret=siret(3)).address == "7 BOULEVARD DES ESSAIS"
    assert SireneEtablissement.objects.count() == 4
