"""The region (DREETS) of an establishment's commune: départements as data, from the postcode."""

from collections import Counter

import pytest

from portail.centres.departements import (
    REGION_OF_DEPARTEMENT,
    departement_of_postcode,
    region_code_of_postcode,
)
from portail.centres.models import Region

pytestmark = pytest.mark.django_db


def test_the_101_departements_fall_in_the_18_regions_of_the_data_migration():
    metropolitan = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
    overseas = ["971", "972", "973", "974", "976"]
    assert sorted(REGION_OF_DEPARTEMENT) == sorted(metropolitan + overseas)
    assert set(REGION_OF_DEPARTEMENT.values()) == set(Region.objects.values_list("code", flat=True))
    sizes = Counter(REGION_OF_DEPARTEMENT.values())
    assert sizes["11"] == 8  # Île-de-France
    assert sizes["76"] == 13  # Occitanie
    assert sizes["94"] == 2  # Corse
    assert sizes["06"] == 1  # Mayotte


@pytest.mark.parametrize(
    ("postcode", "departement", "region"),
    [
        ("44000", "44", "52"),  # Nantes: Pays de la Loire
        ("75015", "75", "11"),
        ("01000", "01", "84"),  # Bourg-en-Bresse: the leading zero kept
        ("02100", "02", "32"),
        ("59000", "59", "32"),
        ("20000", "2A", "94"),  # Ajaccio
        ("20169", "2A", "94"),  # Bonifacio
        ("20200", "2B", "94"),  # Bastia
        ("20600", "2B", "94"),
        ("97100", "971", "01"),  # Basse-Terre
        ("97133", "971", "01"),  # Saint-Barthélemy, under the DEETS of Guadeloupe
        ("97200", "972", "02"),
        ("97300", "973", "03"),
        ("97400", "974", "04"),
        ("97600", "976", "06"),
        ("97500", "975", None),  # Saint-Pierre-et-Miquelon: no DREETS of the 18
        ("98000", "980", None),  # Monaco
        (" 35000 ", "35", "53"),
    ],
)
def test_region_of_a_postcode(postcode, departement, region):
    assert departement_of_postcode(postcode) == departement
    assert region_code_of_postcode(postcode) == region


@pytest.mark.parametrize("postcode", ["", "4400", "440000", "44 000", "ABCDE", "00100", None])
def test_no_region_for_what_is_not_a_french_postcode(postcode):
    assert departement_of_postcode(postcode) is None
    assert region_code_of_postcode(postcode) is None
