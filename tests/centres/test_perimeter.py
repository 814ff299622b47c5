"""The perimeter rule on SIRENs: the establishments a habilitation covers, and its converse."""

from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portail.centres.models import Centre, LinkedSite, Region
from portail.centres.perimeter import (
    establishment_ids_covered_by,
    establishments_covered_by,
    linked_sites_of,
    prefetch_linked_sites,
    sirens_covering,
)
from portail.companies.models import Establishment
from tests.factories import EstablishmentFactory, make_siren, make_siret

pytestmark = pytest.mark.django_db


@dataclass
class Companies:
    head: Establishment  # a centre agréé
    sibling: Establishment  # same SIREN as the centre
    site: Establishment  # another company's establishment, a site lié of the centre
    site_sibling: Establishment  # same SIREN as the site lié, not linked
    unrelated: Establishment
    centre: Centre


def establishments(n: int, count: int) -> list[Establishment]:
    siren = make_siren(n)
    return [EstablishmentFactory(siren=siren, siret=make_siret(siren, i + 1)) for i in range(count)]


@pytest.fixture
def companies() -> Companies:
    head, sibling = establishments(401, 2)
    site, site_sibling = establishments(402, 2)
    (unrelated,) = establishments(403, 1)
    region, _ = Region.objects.get_or_create(
        code="52", defaults={"name": "DREETS Pays de la Loire"}
    )
    centre = Centre.objects.create(
        establishment=head, region=region, letter_name="CFI", letter_address="Nantes"
    )
    LinkedSite.objects.create(centre=centre, establishment=site)
    LinkedSite.objects.create(centre=centre, label="Annexe", address="1 rue sans SIRET")
    return Companies(head, sibling, site, site_sibling, unrelated, centre)


def test_a_siren_covers_its_establishments_and_the_sites_lies_of_its_centres(companies):
    c = companies
    assert set(establishments_covered_by([c.head.siren])) == {c.head, c.sibling, c.site}
    assert establishment_ids_covered_by([c.head.siren]) == sorted(
        [c.head.pk, c.sibling.pk, c.site.pk]
    )


def test_the_site_lies_own_siren_covers_only_its_company(companies):
    c = companies
    assert set(establishments_covered_by([c.site.siren])) == {c.site, c.site_sibling}
    assert establishment_ids_covered_by([c.site.siren]) == sorted([c.site.pk, c.site_sibling.pk])


def test_no_siren_covers_nothing_without_a_query(companies, django_assert_num_queries):
    assert not establishments_covered_by([]).exists()
    with django_assert_num_queries(0):
        assert establishment_ids_covered_by([]) == []


def test_sirens_as_a_subquery_make_one_query(companies, django_assert_num_queries):
    sirens = Establishment.objects.filter(pk=companies.sibling.pk).values_list("siren", flat=True)
    with django_assert_num_queries(1):
        covered = set(establishments_covered_by(sirens))
    assert covered == {companies.head, companies.sibling, companies.site}


def test_the_ids_come_from_one_union_query(companies):
    with CaptureQueriesContext(connection) as queries:
        establishment_ids_covered_by([companies.head.siren, companies.unrelated.siren])
    assert len(queries) == 1
    assert "UNION" in queries[0]["sql"].upper()


def test_the_converse_finds_the_sirens_covering_an_establishment(companies):
    c = companies
    every = Establishment.objects.all()

    def covering(establishment):
        return set(every.filter(sirens_covering(establishment)).values_list("siren", flat=True))

    assert covering(c.sibling) == {c.head.siren}
    assert covering(c.site) == {c.site.siren, c.head.siren}
    assert covering(c.site_sibling) == {c.site.siren}
    assert covering(c.unrelated) == {c.unrelated.siren}


def test_the_converse_follows_a_path_to_the_siren(companies):
    sites = LinkedSite.objects.filter(
        sirens_covering(companies.site, "centre__establishment__siren")
    )
    assert set(sites) == set(companies.centre.sites.all())


def test_linked_sites_of_a_centre_read_from_the_prefetch(companies, django_assert_num_queries):
    with django_assert_num_queries(2):
        (head,) = (
            Establishment.objects.filter(pk=companies.head.pk)
            .select_related("centre")
            .prefetch_related(prefetch_linked_sites("centre"))
        )
    with django_assert_num_queries(0):
        sites = linked_sites_of(head)
    assert [s.establishment for s in sites] == [companies.site, None]
    assert [s.address for s in sites] == ["", "1 rue sans SIRET"]


def test_an_establishment_that_is_no_centre_has_no_linked_sites(companies):
    assert linked_sites_of(companies.sibling) == []
    (sibling,) = Establishment.objects.filter(pk=companies.sibling.pk).select_related("centre")
    assert linked_sites_of(sibling) == []
