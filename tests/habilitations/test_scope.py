from datetime import timedelta

import pytest
from django.utils import timezone

from portail.centres.models import Centre, LinkedSite, Region
from portail.habilitations.models import Habilitation
from portail.habilitations.scope import (
    is_gestionnaire,
    managed_establishment_ids,
    managed_establishments,
    may_manage,
)
from tests.habilitations.factories import company, habilitate

pytestmark = pytest.mark.django_db


def test_gestionnaire_manages_the_centre_and_the_other_establishments_of_its_siren(world):
    scope = set(managed_establishments(world.gestionnaire, world.demarche))
    assert scope == {world.head, world.sibling}
    assert not may_manage(world.gestionnaire, world.demarche, world.foreign_head)


def test_sites_lies_of_the_centre_are_managed(world):
    (site,) = company(303, name="SITE LIÉ", sites=1)
    (unrelated,) = company(304, name="SANS LIEN", sites=1)
    region, _ = Region.objects.get_or_create(
        code="52", defaults={"name": "DREETS Pays de la Loire"}
    )
    centre = Centre.objects.create(
        establishment=world.head, region=region, letter_name="CFI", letter_address="Nantes"
    )
    LinkedSite.objects.create(centre=centre, establishment=site)
    LinkedSite.objects.create(centre=centre, label="Annexe", address="1 rue sans SIRET")
    scope = set(managed_establishments(world.gestionnaire, world.demarche))
    assert scope == {world.head, world.sibling, site}
    assert managed_establishment_ids(world.gestionnaire, world.demarche) == sorted(
        e.pk for e in scope
    )
    assert unrelated not in scope
    # The site lié's own SIREN does not widen the scope to that other company.
    assert not may_manage(world.foreign_gestionnaire, world.demarche, site)


def test_people_without_a_live_managing_role_manage_nothing(world):
    for user in (
        world.centre_user,
        world.colleague,
        world.professional,
        world.particulier,
        world.other_demarche_gestionnaire,
    ):
        assert not managed_establishments(user, world.demarche).exists(), user
        assert managed_establishment_ids(user, world.demarche) == []
        assert not is_gestionnaire(user, world.demarche)


def test_revoked_or_ended_managing_roles_give_no_scope(world):
    manager = Habilitation.objects.get(user=world.gestionnaire, role=world.manager_role)
    manager.revoked_at = timezone.now()
    manager.save()
    assert not managed_establishments(world.gestionnaire, world.demarche).exists()
    habilitate(
        world.professional,
        world.manager_role,
        world.head,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=timezone.now() - timedelta(minutes=1),
    )
    assert not managed_establishments(world.professional, world.demarche).exists()


def test_scope_is_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(managed_establishments(world.gestionnaire, world.demarche))


def test_the_ids_statement_agrees_with_the_orm(world):
    """`managed_establishment_ids` reads a Demarche's scope in one plain statement: the same ids
    as the ORM's `managed_establishments`, for a suspended or a second managing habilitation too
    (by the démarche's code, it is the ORM's two queries)."""

    def orm(user):
        return sorted(e.pk for e in managed_establishments(user, world.demarche))

    (other,) = company(305, name="AUTRE SIREN", sites=1)
    habilitate(world.professional, world.manager_role, other)
    habilitate(world.professional, world.centre_role, world.foreign_head)
    for user in (world.gestionnaire, world.professional, world.centre_user):
        assert managed_establishment_ids(user, world.demarche) == orm(user), user
        assert managed_establishment_ids(user, world.demarche.code) == orm(user), user
    manager = Habilitation.objects.get(user=world.gestionnaire, role=world.manager_role)
    manager.suspended_at = timezone.now()
    manager.save()
    assert managed_establishment_ids(world.gestionnaire, world.demarche) == orm(world.gestionnaire)
    assert orm(world.gestionnaire) == []


def test_the_ids_are_one_statement(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        managed_establishment_ids(world.gestionnaire, world.demarche)
