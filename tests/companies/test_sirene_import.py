"""Import of INSEE's Sirene stock files, and the local adapter over the shipped sample."""

import csv
import gzip
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from portail.companies import demo, registry, sirene_import
from portail.companies.models import SireneEtablissement, SireneUniteLegale
from portail.companies.siret import is_valid_siret
from tests.factories import make_siren, make_siret

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_registry(settings):
    settings.COMPANIES_REGISTRY = "sirene_local"


def _read_sample(path):
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_shipped_sample_holds_valid_sirets_and_the_cases_the_demo_needs():
    etablissements = _read_sample(demo.ETABLISSEMENTS_CSV)
    unites = _read_sample(demo.UNITES_LEGALES_CSV)
    assert len(unites) >= 20
    assert all(is_valid_siret(row["siret"]) for row in etablissements)
    assert all(row["siret"].startswith(row["siren"]) for row in etablissements)
    by_siren = {}
    for row in etablissements:
        by_siren.setdefault(row["siren"], []).append(row)
    assert any(len(rows) >= 4 for rows in by_siren.values())  # a head office with 3+ sites
    assert any(row["etatAdministratifEtablissement"] == "F" for row in etablissements)


def test_demo_load_imports_the_sample_idempotently_and_names_sirets_to_try(capsys):
    lines = demo.load()
    assert len(lines) == 1
    assert "903 100 006 00019" in lines[0]
    counts = (SireneUniteLegale.objects.count(), SireneEtablissement.objects.count())
    assert counts == (26, 41)

    demo.load()
    assert (SireneUniteLegale.objects.count(), SireneEtablissement.objects.count()) == counts

    head_office = registry.lookup(demo.CFI_ATLANTIQUE_SIRET)
    assert head_office.name == "CFI ATLANTIQUE"
    assert head_office.address == "12 QUAI DE LA FOSSE"
    assert (head_office.postcode, head_office.commune) == ("44000", "NANTES")
    assert head_office.is_head_office
    assert head_office.is_active
    for siret in demo.CFI_ATLANTIQUE_SITES:
        site = registry.lookup(siret)
        assert site.siren == demo.CFI_ATLANTIQUE_SIREN
        assert not site.is_head_office
        assert site.is_active
    assert (
        registry.lookup(demo.CFI_ATLANTIQUE_SITES[0]).address == "5 BIS BOULEVARD DE L'UNIVERSITE"
    )
    assert registry.lookup(demo.CFI_ATLANTIQUE_CLOSED_SITE).is_active is False
    assert registry.lookup(demo.GROUPE_HORIZON_SIRET).name == "GROUPE HORIZON COMPETENCES"
    assert registry.lookup(demo.FORMAPRO_NORMANDIE_SIRET).name == "FORMAPRO NORMANDIE"


def test_sample_special_cases():
    demo.load()
    # An entrepreneur individuel: first name and name.
    assert registry.lookup("90312055800015").name == "MARIE DURAND"
    # A complement of address follows the street.
    assert registry.lookup("90311096300019").address == "3 RUE DU RHIN, ZONE PORTUAIRE NORD"
    # A closed company: its establishment is closed.
    assert registry.lookup("90311918800014").is_active is False
    # Non-diffusible data ([ND]) is left empty, never shown as "[ND]".
    hidden = registry.lookup("90313425200019")
    assert (hidden.name, hidden.address, hidden.postcode, hidden.commune) == ("", "", "", "")


UL_COLUMNS = [*sirene_import.UNITE_LEGALE_COLUMNS, "categorieJuridiqueUniteLegale"]
ET_COLUMNS = [*sirene_import.ETABLISSEMENT_COLUMNS, "nic", "codeCommuneEtablissement"]


def _write_etablissements(path, count, *, closed_every=0):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=ET_COLUMNS)
        writer.writeheader()
        for n in range(count):
            siren = make_siren(500000 + n // 3)
            row = dict.fromkeys(ET_COLUMNS, "")
            row.update(
                siren=siren,
                siret=make_siret(siren, n % 3 + 1),
                etablissementSiege="true" if n % 3 == 0 else "false",
                etatAdministratifEtablissement="F"
                if closed_every and n % closed_every == 0
                else "A",
                numeroVoieEtablissement=str(n),
                typeVoieEtablissement="AV",
                libelleVoieEtablissement="DES ESSAIS",
                codePostalEtablissement="75001",
                libelleCommuneEtablissement="PARIS",
            )
            writer.writerow(row)


def test_import_streams_in_batches_and_upserts(tmp_path):
    path = tmp_path / "StockEtablissement_utf8.csv"
    _write_etablissements(path, 2500)
    seen = []
    result = sirene_import.import_etablissements(
        path, batch_size=1000, method="batched", progress=lambda r: seen.append(r.rows)
    )
    assert (result.rows, result.batches) == (2500, 3)
    assert seen == [1000, 2000, 2500]
    assert SireneEtablissement.objects.count() == 2500
    assert SireneEtablissement.objects.get(siret=make_siret(make_siren(500000), 1)).address == (
        "0 AVENUE DES ESSAIS"
    )

    # A newer file updates the rows in place.
    _write_etablissements(path, 2500, closed_every=2)
    sirene_import.import_etablissements(path, batch_size=1000)
    assert SireneEtablissement.objects.count() == 2500
    assert SireneEtablissement.objects.filter(is_active=False).count() == 1250


def test_import_active_only_skips_closed_establishments(tmp_path):
    path = tmp_path / "etab.csv"
    _write_etablissements(path, 10, closed_every=2)
    result = sirene_import.import_etablissements(path, active_only=True)
    assert result.rows == 5
    assert not SireneEtablissement.objects.filter(is_active=False).exists()


def test_import_reads_zip_and_gzip(tmp_path):
    csv_path = tmp_path / "StockEtablissement_utf8.csv"
    _write_etablissements(csv_path, 7)
    zip_path = tmp_path / "StockEtablissement_utf8.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(csv_path, "StockEtablissement_utf8.csv")
    assert sirene_import.import_etablissements(zip_path).rows == 7

    SireneEtablissement.objects.all().delete()
    gz_path = tmp_path / "StockEtablissement_utf8.csv.gz"
    gz_path.write_bytes(gzip.compress(csv_path.read_bytes()))
    assert sirene_import.import_etablissements(gz_path).rows == 7


def test_import_refuses_a_file_without_insee_columns(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("siret,name\n12345678900012,X\n", encoding="utf-8")
    with pytest.raises(sirene_import.SireneFileError, match="Colonnes absentes"):
        sirene_import.import_etablissements(path)
    assert not SireneEtablissement.objects.exists()


def test_management_command(tmp_path):
    ul_path = tmp_path / "ul.csv"
    with ul_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=UL_COLUMNS)
        writer.writeheader()
        writer.writerow(
            {
                **dict.fromkeys(UL_COLUMNS, ""),
                "siren": make_siren(500000),
                "denominationUniteLegale": "ESSAI SA",
                "etatAdministratifUniteLegale": "A",
            }
        )
    et_path = tmp_path / "et.csv"
    _write_etablissements(et_path, 3)
    out = io.StringIO()
    call_command(
        "import_sirene", unites_legales=str(ul_path), etablissements=str(et_path), stdout=out
    )
    assert "1 unités légales lus" in out.getvalue()
    assert "3 établissements lus" in out.getvalue()
    assert registry.lookup(make_siret(make_siren(500000), 2)).name == "ESSAI SA"

    with pytest.raises(CommandError):
        call_command("import_sirene", stdout=out)
    with pytest.raises(CommandError, match="Colonnes absentes"):
        call_command("import_sirene", etablissements=str(ul_path), stdout=out)
    with pytest.raises(CommandError):
        call_command("import_sirene", etablissements=str(tmp_path / "missing.csv"), stdout=out)


def test_a_siret_twice_in_one_batch_keeps_its_last_row(tmp_path):
    path = tmp_path / "etab.csv"
    _write_etablissements(path, 2)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(
        "\n".join([*lines, lines[1].replace(",0,,AV,", ",99,,AV,")]) + "\n", encoding="utf-8"
    )
    result = sirene_import.import_etablissements(path)
    assert (result.rows, result.written) == (3, 2)  # three lines read, two rows written
    assert SireneEtablissement.objects.get(siret=make_siret(make_siren(500000), 1)).address == (
        "99 AVENUE DES ESSAIS"
    )
