"""The claims' habilitations read in one plain statement (portail.oidc.claim_rows) are those
`Habilitation.objects.live()` gives, in the same order, with the same loaded fields and values,
on every database the suite runs on."""

# ruff: noqa: F811 (the fixtures of test_claims, imported)

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portail.centres.models import Centre
from portail.centres.perimeter import linked_sites_of, prefetch_linked_sites
from portail.demarches.models import Role
from portail.habilitations.grants import revoke_habilitation, suspend_habilitation
from portail.habilitations.models import Habilitation
from portail.oidc import claim_rows
from tests.factories import (
    DemarcheFactory,
    EstablishmentFactory,
    HabilitationFactory,
    RoleFactory,
    UserFactory,
    make_siren,
)
from tests.oidc.test_claims import centre, person  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def the_orms(user, client_id: str) -> list[Habilitation]:
    """What the claims read before claim_rows, through the ORM."""
    return list(
        Habilitation.objects.live()
        .filter(user=user, demarche__oidc_client_id=client_id)
        .select_related("establishment", "establishment__centre", "role")
        .only(
            "ends_at",
            "suspended_at",
            "suspension_reason",
            "establishment__siret",
            "establishment__name",
            "establishment__commune",
            "establishment__address",
            "establishment__postcode",
            "establishment__centre__id",
            "role__code",
            "role__label",
            "role__can_manage",
        )
        .prefetch_related(prefetch_linked_sites("establishment__centre"))
        .order_by("establishment__siret", "role__order", "role__code")
    )


def same_loaded_fields(ours, theirs) -> None:
    assert type(ours) is type(theirs)
    assert ours.pk == theirs.pk
    assert ours.get_deferred_fields() == theirs.get_deferred_fields()
    for field in type(theirs)._meta.concrete_fields:
        if field.attname in theirs.get_deferred_fields():
            continue
        value, expected = getattr(ours, field.attname), getattr(theirs, field.attname)
        assert value == expected, field.name
        assert type(value) is type(expected), field.name


def centre_of(establishment) -> Centre | None:
    try:
        return establishment.centre
    except Centre.DoesNotExist:
        return None


def test_the_rows_are_the_orms(person, ceres_client, centre):
    ceres = ceres_client.application
    role = Role.objects.get(demarche__code="ceres", code="centre-agree")
    manager = Role.objects.get(demarche__code="ceres", code="gestionnaire-centres")
    plain = EstablishmentFactory(siren=make_siren(321), name="Sans centre")
    HabilitationFactory(user=person, role=role, establishment=centre.establishment)
    HabilitationFactory(user=person, role=manager, establishment=centre.establishment)
    HabilitationFactory(user=person, role=role, establishment=plain)
    delegated = HabilitationFactory(
        user=person, role=manager, establishment=plain, ends_at=timezone.now() + timedelta(days=3)
    )
    ended = HabilitationFactory(
        user=person,
        role=role,
        establishment=EstablishmentFactory(siren=make_siren(654)),
        ends_at=timezone.now() - timedelta(days=1),
    )
    revoked = HabilitationFactory(
        user=person, role=role, establishment=EstablishmentFactory(siren=make_siren(987))
    )
    suspended = HabilitationFactory(
        user=person, role=role, establishment=EstablishmentFactory(siren=make_siren(246))
    )
    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=revoked)
        suspend_habilitation(
            actor=None, habilitation=suspended, reason=Habilitation.Suspension.REVIEW_OVERDUE
        )
    other_demarche = RoleFactory(demarche=DemarcheFactory(oidc_client_id="autre-client"))
    HabilitationFactory(user=person, role=other_demarche, establishment=plain)
    HabilitationFactory(user=UserFactory(), role=role, establishment=plain)

    ours = claim_rows.live_habilitations(person.pk, ceres.client_id)
    theirs = the_orms(person, ceres.client_id)

    assert len(theirs) == 5  # the ended, revoked, other démarche's and other person's left out
    assert [h.pk for h in ours] == [h.pk for h in theirs]
    assert delegated.pk in [h.pk for h in ours]
    assert ended.pk not in [h.pk for h in ours]
    for mine, expected in zip(ours, theirs, strict=True):
        same_loaded_fields(mine, expected)
        same_loaded_fields(mine.establishment, expected.establishment)
        same_loaded_fields(mine.role, expected.role)
        if centre_of(expected.establishment) is None:
            assert centre_of(mine.establishment) is None
        else:
            same_loaded_fields(centre_of(mine.establishment), centre_of(expected.establishment))
        assert [s.pk for s in linked_sites_of(mine.establishment)] == [
            s.pk for s in linked_sites_of(expected.establishment)
        ]


def test_two_statements_with_sites_lies_and_nothing_read_later(
    person,
    ceres_client,
    centre,
    django_assert_num_queries,
):
    role = Role.objects.get(demarche__code="ceres", code="centre-agree")
    HabilitationFactory(user=person, role=role, establishment=centre.establishment)
    with django_assert_num_queries(2):
        (habilitation,) = claim_rows.live_habilitations(person.pk, ceres_client.client_id)
        sites = linked_sites_of(habilitation.establishment)
        assert [site.establishment.siret if site.establishment else site.label for site in sites]
        assert habilitation.establishment.commune_line is not None
        assert habilitation.get_suspension_reason_display() == ""
