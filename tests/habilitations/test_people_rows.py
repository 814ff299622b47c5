"""`people_rows`' two statements answer what the ORM answers (`queries.people_counts`,
`queries.PeopleByRole` and the rows it pages through), case by case: it is hand-written SQL, a
condition or an order left out would show here."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portail.habilitations import people_rows
from portail.habilitations.models import Habilitation
from portail.habilitations.queries import PeopleByRole, people_counts, people_of
from tests.habilitations.factories import ceres, company, habilitate, other_demarche, person

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def world():
    demarche, centre, manager = ceres()
    _autre, autre_role = other_demarche()
    head, site = company(41)
    (elsewhere,) = company(42, name="AILLEURS", sites=1)
    gaston = person("Gaston", "Gérant", head, email="gaston@banc.fr")
    habilitate(gaston, manager, head, origin=Habilitation.Origin.ACTIVATION_CODE)
    habilitate(gaston, centre, site, granted_by=gaston)
    for n, (first, last) in enumerate(
        [("Anne", "Martin"), ("Éloïse", "Dupont"), ("Jean", "Martin-Duval"), ("Zoé", "o_hara")]
    ):
        someone = person(first, last, site, email=f"p{n}@banc.fr")
        habilitate(someone, centre, site if n % 2 else head, granted_at=NOW - timedelta(days=n % 3))
    # Neither listed nor counted: revoked, ended, suspended, another démarche, out of scope.
    for n, fields in enumerate(
        [
            {"revoked_at": NOW},
            {"ends_at": NOW - timedelta(seconds=1)},
            {"suspended_at": NOW, "suspension_reason": Habilitation.Suspension.REVIEW_OVERDUE},
        ]
    ):
        habilitate(
            person("Caché", f"N{n}", head, email=f"cache{n}@banc.fr"), centre, head, **fields
        )
    habilitate(person("Autre", "Démarche", head, email="autre@banc.fr"), autre_role, head)
    habilitate(person("Loin", "Ailleurs", elsewhere, email="loin@banc.fr"), centre, elsewhere)
    # Delegations: counted apart, not in the people's list; one ending soon, one without end.
    third = person("Thierry", "Tiers", email="tiers@prestataire.fr")
    habilitate(
        third,
        centre,
        head,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=NOW + timedelta(days=3),
    )
    habilitate(third, manager, site, origin=Habilitation.Origin.DELEGATION)
    return demarche, [manager, centre], head, site


SEARCHES = {
    "everyone": ("", ""),
    "one establishment": ("head", ""),
    "a name": ("", "mar"),
    "two words": ("", "jean MARTIN"),
    "any case, an accent": ("", "éLO"),
    "an address": ("", "P1@"),
    "a like wildcard taken literally": ("", "o_"),
    "a percent taken literally": ("", "%"),
    "nobody": ("", "personne"),
    "the establishment and a name": ("site", "Gaston"),
}


def orm(demarche, scope, siret, text):
    live = people_of(demarche, scope, siret=siret, text=text)
    return live.exclude(origin=Habilitation.Origin.DELEGATION), live.filter(
        origin=Habilitation.Origin.DELEGATION
    )


def listed(habilitations):
    return [
        (
            h.pk,
            h.role_id,
            h.origin,
            h.granted_at,
            h.ends_at,
            h.user.get_full_name(),
            h.user.email,
            h.establishment.siret,
            h.establishment.name,
            h.granted_by.email if h.granted_by else None,
        )
        for h in habilitations
    ]


@pytest.mark.parametrize("case", SEARCHES)
def test_the_counts_and_every_page_agree_with_the_orm(world, case):
    demarche, roles, head, site = world
    scope = [head.pk, site.pk]
    where, text = SEARCHES[case]
    siret = {"head": head.siret, "site": site.siret, "": ""}[where]
    searched = {"head": [head.pk], "site": [site.pk], "": scope}[where]
    search = people_rows.Search(demarche.pk, searched, text)
    people, delegations = orm(demarche, scope, siret, text)

    counts = people_rows.counts(search, [role.pk for role in roles])
    expected = people_counts(people)
    assert {role: (counts.persons[role], counts.rows[role]) for role in counts.rows} == expected
    assert counts.delegations == delegations.count()

    by_role = PeopleByRole(people, roles, counts.rows)
    total = len(by_role)
    for start, stop in [(0, 2), (1, 3), (2, 5), (0, total), (total - 1, total + 2), (5, 9)]:
        ids = by_role[slice(start, stop)]
        rows = {h.pk: h for h in Habilitation.objects.filter(pk__in=ids)}
        assert listed(people_rows.page(search, roles, counts.rows, start, stop)) == listed(
            rows[pk] for pk in ids
        ), (start, stop)


def test_one_statement_each_whatever_the_roles_on_the_page(world):
    demarche, roles, head, site = world
    search = people_rows.Search(demarche.pk, [head.pk, site.pk], "")
    with CaptureQueriesContext(connection) as captured:
        counts = people_rows.counts(search, [role.pk for role in roles])
        rows = people_rows.page(search, roles, counts.rows, 0, 20)
    assert len(captured.captured_queries) == 2
    assert {h.role_id for h in rows} == {role.pk for role in roles}
    # Nothing to read: no statement.
    with CaptureQueriesContext(connection) as captured:
        assert people_rows.page(search, roles, counts.rows, 20, 40) == []
        assert people_rows.counts(people_rows.Search(demarche.pk, [], ""), [1]).rows == {}
    assert captured.captured_queries == []


@pytest.fixture
def crowd():
    """Three establishments, grants at three instants only (ties within an establishment and
    across them, broken by id), one person in two establishments, one with two roles, rows
    hidden (revoked, ended, suspended) or elsewhere (another company, another démarche)."""
    demarche, centre, manager = ceres()
    _autre, autre_role = other_demarche()
    sites = company(43, sites=3)
    (elsewhere,) = company(44, name="AILLEURS", sites=1)
    instants = [NOW - timedelta(hours=k) for k in range(3)]
    people = [person(f"P{n}", "Foule", sites[n % 3], email=f"f{n}@banc.fr") for n in range(24)]
    for n, someone in enumerate(people):
        fields = [{}, {}, {}, {"revoked_at": NOW}, {"ends_at": NOW - timedelta(seconds=1)}]
        if n % 7 == 6:
            fields.append({"suspended_at": NOW})
        habilitate(someone, centre, sites[n % 3], granted_at=instants[n % 3], **fields[n % 5])
    habilitate(people[0], centre, sites[1], granted_at=instants[0])  # one person, two places
    habilitate(people[1], manager, sites[1], granted_at=instants[0])  # one person, two roles
    habilitate(people[2], autre_role, sites[2])
    habilitate(people[5], centre, elsewhere, granted_at=instants[0])
    habilitate(people[8], manager, sites[0], origin=Habilitation.Origin.DELEGATION)
    return demarche, [manager, centre], sites


def test_every_window_of_a_crowd_with_ties_agrees_with_the_orm(crowd):
    """The index `live_habilitation_cover` orders each establishment's entries by `granted_at`
    then `id` (migration 0010): the windows read in that order still list what the ORM lists."""
    demarche, roles, sites = crowd
    scope = [e.pk for e in sites]
    search = people_rows.Search(demarche.pk, scope, "")
    people, delegations = orm(demarche, scope, "", "")
    counts = people_rows.counts(search, [role.pk for role in roles])
    assert {role: (counts.persons[role], counts.rows[role]) for role in counts.rows} == (
        people_counts(people)
    )
    assert counts.persons[roles[1].pk] < counts.rows[roles[1].pk]  # the person in two places
    assert counts.delegations == delegations.count() == 1
    for site in sites:  # one establishment: the persons are its rows, no DISTINCT
        alone = people_rows.counts(
            people_rows.Search(demarche.pk, [site.pk], ""), [role.pk for role in roles]
        )
        people_there, delegated_there = orm(demarche, scope, site.siret, "")
        assert {r: (alone.persons[r], alone.rows[r]) for r in alone.rows} == (
            people_counts(people_there)
        )
        assert alone.delegations == delegated_there.count()
    by_role = PeopleByRole(people, roles, counts.rows)
    total = len(by_role)
    for start in range(total + 1):
        for size in (1, 4, 7):
            ids = by_role[slice(start, start + size)]
            rows = {h.pk: h for h in Habilitation.objects.filter(pk__in=ids)}
            assert listed(people_rows.page(search, roles, counts.rows, start, start + size)) == (
                listed(rows[pk] for pk in ids)
            ), (start, size)
