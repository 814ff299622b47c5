"""The registry interface over the local Sirene adapter (the default)."""

import pytest

from portail.companies import registry
from portail.companies.models import Establishment, SireneEtablissement
from tests.companies.factories import SireneEtablissementFactory, SireneUniteLegaleFactory
from tests.factories import EstablishmentFactory, make_siren, make_siret

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_registry(settings):
    settings.COMPANIES_REGISTRY = "sirene_local"


def test_lookup_returns_the_establishment_with_its_company_name():
    unite = SireneUniteLegaleFactory(name="CFI ATLANTIQUE")
    row = SireneEtablissementFactory(
        unite=unite, nic=23, address="3 RUE DU PORT", is_head_office=False
    )
    spaced = f"{row.siret[:3]} {row.siret[3:6]} {row.siret[6:9]} {row.siret[9:]}"

    data = registry.lookup(spaced)

    assert data == registry.EstablishmentData(
        siret=row.siret,
        siren=unite.siren,
        name="CFI ATLANTIQUE",
        address="3 RUE DU PORT",
        postcode="44000",
        commune="NANTES",
        is_head_office=False,
        is_active=True,
        source="sirene_local",
    )


def test_lookup_rejects_an_invalid_siret_before_asking():
    with pytest.raises(registry.InvalidSiret) as exc:
        registry.lookup("1234")
    assert exc.value.message == "Le numéro SIRET doit comporter 14 chiffres."
    bad = make_siret(make_siren(5), 1)
    bad = bad[:13] + str((int(bad[13]) + 1) % 10)
    with pytest.raises(registry.InvalidSiret) as exc:
        registry.lookup(bad)
    assert exc.value.message == "Ce numéro SIRET n'est pas valide."


def test_lookup_unknown_siret():
    with pytest.raises(registry.UnknownSiret) as exc:
        registry.lookup(make_siret(make_siren(777), 1))
    assert exc.value.message == "Ce SIRET est inconnu du répertoire des entreprises."


def test_closed_establishment_and_closed_company_are_inactive():
    closed = SireneEtablissementFactory(closed=True)
    assert registry.lookup(closed.siret).is_active is False

    company_closed = SireneUniteLegaleFactory(is_active=False)
    row = SireneEtablissementFactory(unite=company_closed)
    assert registry.lookup(row.siret).is_active is False


def test_establishment_from_registry_creates_then_refreshes():
    row = SireneEtablissementFactory(address="1 PLACE ROYALE")
    created = registry.establishment_from_registry(row.siret)
    assert created.verified is True
    assert created.source == Establishment.Source.SIRENE_LOCAL
    assert created.refreshed_at is not None
    assert created.address == "1 PLACE ROYALE"

    SireneEtablissement.objects.filter(siret=row.siret).update(
        address="2 PLACE ROYALE", is_active=False
    )
    refreshed = registry.establishment_from_registry(row.siret)
    assert refreshed.pk == created.pk
    assert refreshed.address == "2 PLACE ROYALE"
    assert refreshed.is_active is False
    assert refreshed.refreshed_at >= created.refreshed_at
    assert Establishment.objects.count() == 1


def test_establishment_from_registry_verifies_a_declared_row():
    unite = SireneUniteLegaleFactory(name="NOM AU REPERTOIRE")
    row = SireneEtablissementFactory(unite=unite)
    declared = registry.declared_establishment(
        row.siret, "Mon centre", "1 rue X", "44000", "Nantes"
    )
    assert declared.verified is False
    assert declared.source == Establishment.Source.DECLARED

    verified = registry.establishment_from_registry(row.siret)
    assert verified.pk == declared.pk
    assert verified.verified is True
    assert verified.name == "NOM AU REPERTOIRE"


def test_declared_establishment_never_overwrites_an_existing_row():
    existing = EstablishmentFactory(name="Nom vérifié")
    again = registry.declared_establishment(existing.siret, "Autre nom", "", "", "")
    assert again.pk == existing.pk
    again.refresh_from_db()
    assert again.name == "Nom vérifié"
    assert again.verified is True


def test_declared_establishment_validates_the_siret():
    with pytest.raises(registry.InvalidSiret):
        registry.declared_establishment("12345678901234", "X")
    assert not Establishment.objects.exists()


def test_unknown_siret_creates_no_establishment():
    with pytest.raises(registry.UnknownSiret):
        registry.establishment_from_registry(make_siret(make_siren(778), 1))
    assert not Establishment.objects.exists()
