"""`managed_scope`'s two statements answer what the ORM's reads answer (the démarche by
`get_object_or_404`, `scope.managed_establishment_ids`, the forms' active establishments by
SIRET), case by case: it is hand-written SQL, a condition left out would show here."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portail.centres.models import Centre, LinkedSite, Region
from portail.companies.models import Establishment
from portail.demarches.models import Demarche, Role
from portail.habilitations.invitation_scope import managed_scope
from portail.habilitations.scope import managed_establishment_ids
from tests.factories import DemarcheFactory, RoleFactory
from tests.habilitations.factories import ceres, company, habilitate, other_demarche, person

pytestmark = pytest.mark.django_db

AGO = timezone.now() - timedelta(days=3)

CASES = {
    "nothing": [],
    "a gestionnaire": [("manager", "head", {})],
    "a role that does not manage": [("centre", "head", {})],
    "suspended": [("manager", "head", {"suspended_at": AGO})],
    "ended": [("manager", "head", {"ends_at": timezone.now() - timedelta(seconds=1)})],
    "ending later": [("manager", "head", {"ends_at": timezone.now() + timedelta(days=1)})],
    "revoked": [("manager", "head", {"revoked_at": AGO})],
    "another person's": [("manager", "head", {"user": "other"})],
    "another démarche's": [("autre", "head", {})],
    "an inactive démarche": [("inactive", "head", {})],
    "two companies, twice the same": [
        ("manager", "head", {}),
        ("manager", "site", {}),
        ("manager", "foreign", {}),
    ],
    "the centre's sites liés": [("manager", "centre", {})],
}


def role_fields(roles) -> list[dict]:
    return [{f.attname: getattr(r, f.attname) for f in Role._meta.concrete_fields} for r in roles]


def orm_answer(user, code: str) -> tuple[object, list[tuple], list[dict]]:
    demarche = Demarche.objects.filter(code=code, is_active=True).first()
    if demarche is None:
        return None, [], []
    ids = managed_establishment_ids(user, demarche)
    rows = Establishment.objects.filter(pk__in=ids).order_by("siret")
    establishments = [(e.pk, e.siret, e.name, e.commune, e.is_active) for e in rows]
    return demarche, establishments, role_fields(demarche.roles.all())


def plain_answer(user, code: str) -> tuple[object, list[tuple], list[dict]]:
    demarche, establishments, roles = managed_scope(user, code)
    rows = [(e.pk, e.siret, e.name, e.commune, e.is_active) for e in establishments]
    return demarche, rows, role_fields(roles)


def demarche_fields(demarche) -> dict | None:
    if demarche is None:
        return None
    return {f.attname: getattr(demarche, f.attname) for f in Demarche._meta.concrete_fields}


@pytest.mark.parametrize("case", CASES)
def test_the_statements_agree_with_the_orm(case):
    ceres_demarche, centre, manager = ceres()
    autre_demarche, autre = other_demarche()
    inactive = RoleFactory(demarche=DemarcheFactory(is_active=False), can_manage=True)
    # Roles in the model's order (order, then label), one that grants on activation.
    RoleFactory(demarche=autre_demarche, code="b", label="B", order=5, granted_on_activation=True)
    RoleFactory(demarche=autre_demarche, code="a", label="A", order=5)
    head, site, closed = company(41, name="CFI « B » & <c>", sites=3)
    closed.is_active = False
    closed.save()
    (foreign,) = company(42, name="AUTRE", sites=1)
    (linked,) = company(43, name="SITE LIÉ", sites=1)
    (centre_head,) = company(44, name="CENTRE", sites=1)
    region, _ = Region.objects.get_or_create(code="52", defaults={"name": "DREETS"})
    agreed = Centre.objects.create(
        establishment=centre_head, region=region, letter_name="CFI", letter_address="Nantes"
    )
    LinkedSite.objects.create(centre=agreed, establishment=linked)
    LinkedSite.objects.create(centre=agreed, label="Annexe", address="1 rue sans SIRET")
    user = person("Nina", "Portée", head, email="nina@banc.fr")
    other = person("Otto", "Autre", head, email="otto@banc.fr")
    roles = {"manager": manager, "centre": centre, "autre": autre, "inactive": inactive}
    places = {"head": head, "site": site, "foreign": foreign, "centre": centre_head}
    for role, place, fields in CASES[case]:
        holder = other if fields.get("user") == "other" else user
        kept = {k: v for k, v in fields.items() if k != "user"}
        habilitate(holder, roles[role], places[place], **kept)
    for code in (ceres_demarche.code, autre_demarche.code, inactive.demarche.code, "inconnue"):
        expected_demarche, expected, expected_roles = orm_answer(user, code)
        demarche, establishments, roles = plain_answer(user, code)
        assert demarche_fields(demarche) == demarche_fields(expected_demarche), code
        assert establishments == expected, code
        assert roles == expected_roles, code


def test_two_statements_and_the_fields_the_forms_read():
    _demarche, _centre, manager = ceres()
    head, site = company(45)
    user = person("Nina", "Deux", head, email="deux@banc.fr")
    habilitate(user, manager, head)
    with CaptureQueriesContext(connection) as captured:
        demarche, establishments, roles = managed_scope(user, "ceres")
        assert [e.siret_and_commune for e in establishments] == [
            e.siret_and_commune for e in (head, site)
        ]
        assert [e.name for e in establishments] == [head.name, site.name]
    assert len(captured.captured_queries) == 2
    assert demarche is not None
    assert (demarche.code, demarche.requires_mfa) == ("ceres", False)
    assert [role.code for role in roles] == ["centre-agree", "gestionnaire-centres"]
