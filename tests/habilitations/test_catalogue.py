"""`catalogue_of`'s one statement answers what the ORM's `catalogue_for` answers, case by case
(it is hand-written SQL: a condition or an order left out would show it here)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portail.core import fragments
from portail.habilitations.catalogue import catalogue_of
from portail.habilitations.mes_demarches_views import _held_tiles
from portail.habilitations.models import Habilitation
from portail.habilitations.queries import Catalogue, catalogue_for
from tests.factories import DemarcheFactory, RoleFactory
from tests.habilitations.factories import ceres, company, habilitate, other_demarche, person

pytestmark = pytest.mark.django_db

SUSPENDED = {
    "suspended_at": timezone.now() - timedelta(days=3),
    "suspension_reason": Habilitation.Suspension.REVIEW_OVERDUE,
}


def shown(catalogue: Catalogue) -> tuple[list[tuple], list[str], list[tuple]]:
    """What the page reads of each démarche, and the keys its held tiles are kept under."""
    held = [
        (d.code, d.long_name, d.url, d.held, d.manages, d.delegation_ends_at, d.suspensions)
        for d in catalogue.held
    ]
    others = [
        (d.code, d.held, d.manages, d.delegation_ends_at, d.suspensions) for d in catalogue.others
    ]
    return held, others, list(catalogue.held_keys)


def tiles_as_the_template_writes_them(user) -> str:
    """The held tiles rendered from the ORM's démarches, none kept."""
    return "".join(
        render_to_string("habilitations/_held_tile.html", {"demarche": demarche})
        for demarche in catalogue_for(user).held
    )


def delegation(days: int) -> dict:
    return {
        "origin": Habilitation.Origin.DELEGATION,
        "ends_at": timezone.now() + timedelta(days=days),
    }


CASES = {
    "nothing": [],
    "a centre": [("centre", "head", {})],
    "a gestionnaire": [("manager", "head", {})],
    "suspended": [("centre", "head", SUSPENDED)],
    "suspended gestionnaire and live centre": [
        ("manager", "head", SUSPENDED),
        ("centre", "site", {}),
    ],
    "closed establishment": [
        (
            "centre",
            "site",
            {
                "suspended_at": timezone.now(),
                "suspension_reason": Habilitation.Suspension.ESTABLISHMENT_CLOSED,
            },
        ),
        ("centre", "head", {**SUSPENDED, "suspension_reason": ""}),
    ],
    "ended": [("centre", "head", {"ends_at": timezone.now() - timedelta(seconds=1)})],
    "revoked": [("centre", "head", {"revoked_at": timezone.now()})],
    "delegated, the soonest end": [
        ("centre", "head", delegation(10)),
        ("manager", "site", delegation(3)),
    ],
    "delegation without end": [("centre", "head", {"origin": Habilitation.Origin.DELEGATION})],
    "another person's": [("centre", "head", {"user": "other"})],
    "inactive démarche": [("inactive", "head", {})],
    "two démarches": [("centre", "head", {}), ("autre", "site", {}), ("inactive", "site", {})],
}


@pytest.mark.parametrize("case", CASES)
def test_the_statement_agrees_with_the_orm(case, monkeypatch):
    _ceres, centre, manager = ceres()
    _autre, autre = other_demarche()
    inactive = RoleFactory(demarche=DemarcheFactory(is_active=False, long_name="Fermée"))
    DemarcheFactory(long_name="Aaa, first in the order", order=0)
    head, site = company(31, name="CFI B")
    site.name = "CFI A"
    site.save()
    user = person("Nina", "Catalogue", head, email="nina@banc.fr")
    other = person("Otto", "Autre", head, email="otto@banc.fr")
    roles = {"centre": centre, "manager": manager, "autre": autre, "inactive": inactive}
    places = {"head": head, "site": site}
    for role, place, fields in CASES[case]:
        holder = other if fields.get("user") == "other" else user
        kept = {k: v for k, v in fields.items() if k != "user"}
        habilitate(holder, roles[role], places[place], **kept)
    assert shown(catalogue_of(user)) == shown(catalogue_for(user))
    # The tiles kept under those keys, byte for byte the template's, rendered then kept.
    monkeypatch.setattr(fragments, "_rendered", fragments.OrderedDict())
    for _ in range(2):
        assert _held_tiles(catalogue_of(user)) == tiles_as_the_template_writes_them(user)
    # Another person's tiles of the same démarches: their own, whatever is kept.
    assert _held_tiles(catalogue_of(other)) == tiles_as_the_template_writes_them(other)


def test_in_one_statement_whatever_the_number_held():
    head, _site = company(32)
    user = person("Nina", "Vingt", head, email="vingt@banc.fr")
    for _ in range(20):
        habilitate(user, RoleFactory(demarche=DemarcheFactory()), head)
    with CaptureQueriesContext(connection) as captured:
        catalogue = catalogue_of(user)
    assert len(captured.captured_queries) == 1
    assert len(catalogue.held) == 20
    assert shown(catalogue) == shown(catalogue_for(user))
