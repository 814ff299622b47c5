"""The `habilitations` claim: the calling démarche only, live habilitations only, sites liés."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from portail.centres.models import Centre, LinkedSite, Region
from portail.demarches.models import Demarche, Role
from portail.habilitations.grants import revoke_habilitation, suspend_habilitation
from portail.habilitations.models import Habilitation
from portail.oidc.claims import habilitations_claim
from portail.oidc.clients import register_demarche_client
from tests.factories import (
    EstablishmentFactory,
    HabilitationFactory,
    make_siren,
    make_siret,
)
from tests.oidc.helpers import REDIRECT_URI, Flow, userinfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(user):
    return user


@pytest.fixture
def centre():
    establishment = EstablishmentFactory(name="CFI Atlantique")
    region, _ = Region.objects.get_or_create(
        code="52", defaults={"name": "DREETS Pays de la Loire"}
    )
    centre = Centre.objects.create(
        establishment=establishment, region=region, letter_name="CFI Atlantique", letter_address="x"
    )
    site = EstablishmentFactory(
        siren=establishment.siren,
        siret=make_siret(establishment.siren, 2),
        name="CFI Atlantique — Saint-Nazaire",
    )
    site.address = "3 avenue de la Gare"
    site.save()
    LinkedSite.objects.create(centre=centre, establishment=site)
    LinkedSite.objects.create(centre=centre, label="Annexe du port", address="1 quai Est, Nantes")
    return centre


def role(demarche_code: str, code: str) -> Role:
    return Role.objects.get(demarche__code=demarche_code, code=code)


def test_claim_lists_establishments_sites_and_roles_of_the_calling_demarche(
    client, person, flow, centre
):
    establishment = centre.establishment
    HabilitationFactory(
        user=person, role=role("ceres", "gestionnaire-centres"), establishment=establishment
    )
    HabilitationFactory(
        user=person, role=role("ceres", "centre-agree"), establishment=establishment
    )
    other = EstablishmentFactory(siren=make_siren(777), name="Autre centre")
    HabilitationFactory(user=person, role=role("ceres", "centre-agree"), establishment=other)

    info = userinfo(client, flow.tokens(client)["access_token"]).json()

    by_siret = {e["siret"]: e for e in info["habilitations"]}
    assert set(by_siret) == {establishment.siret, other.siret}
    mine = by_siret[establishment.siret]
    assert mine["name"] == "CFI Atlantique"
    assert mine["commune"] == establishment.commune == "Nantes"
    assert mine["address"] == f"{establishment.address}, 44000 Nantes"
    assert {r["code"] for r in mine["roles"]} == {"gestionnaire-centres", "centre-agree"}
    assert {r["label"] for r in mine["roles"]} == {"Gestionnaire CENTRES", "Centre agréé"}
    assert [r["gestionnaire"] for r in mine["roles"] if r["code"] == "gestionnaire-centres"] == [
        True
    ]
    assert mine["sites_lies"] == [
        {
            "siret": make_siret(establishment.siren, 2),
            "name": "CFI Atlantique — Saint-Nazaire",
            "address": "3 avenue de la Gare, 44000 Nantes",
        },
        {"siret": None, "name": "Annexe du port", "address": "1 quai Est, Nantes"},
    ]
    assert by_siret[other.siret]["sites_lies"] == []
    assert [r["code"] for r in by_siret[other.siret]["roles"]] == ["centre-agree"]
    assert {r["ends_at"] for r in mine["roles"]} == {None}


def test_a_delegated_role_carries_its_end(client, person, flow, centre):
    ends_at = datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("Europe/Paris"))
    HabilitationFactory(
        user=person,
        role=role("ceres", "centre-agree"),
        establishment=centre.establishment,
        origin=Habilitation.Origin.DELEGATION,
        ends_at=ends_at,
    )
    info = userinfo(client, flow.tokens(client)["access_token"]).json()
    (entry,) = info["habilitations"]
    (delegated,) = entry["roles"]
    assert delegated["ends_at"] == "2099-12-31T23:59:59.999999+01:00"
    assert datetime.fromisoformat(delegated["ends_at"]) == ends_at


def test_claims_never_cross_demarches(client, person, flow, centre):
    """A habilitation in another démarche is invisible to CERES, and the reverse."""
    establishment = centre.establishment
    HabilitationFactory(
        user=person, role=role("ceres", "centre-agree"), establishment=establishment
    )
    HabilitationFactory(
        user=person, role=role("mon-activite-formation", "declarant"), establishment=establishment
    )
    maf = register_demarche_client(
        actor=None,
        demarche=Demarche.objects.get(code="mon-activite-formation"),
        redirect_uris=[REDIRECT_URI],
    )

    ceres_view = userinfo(client, flow.tokens(client)["access_token"]).json()["habilitations"]
    maf_view = userinfo(
        client, Flow(maf.client_id, maf.client_secret).tokens(client)["access_token"]
    )
    maf_view = maf_view.json()["habilitations"]

    assert [r["code"] for e in ceres_view for r in e["roles"]] == ["centre-agree"]
    assert [r["code"] for e in maf_view for r in e["roles"]] == ["declarant"]


def test_client_of_no_demarche_sees_no_habilitation(client, person, ceres_client, centre):
    HabilitationFactory(
        user=person, role=role("ceres", "centre-agree"), establishment=centre.establishment
    )
    Demarche.objects.filter(code="ceres").update(oidc_client_id="")
    flow = Flow(ceres_client.client_id, ceres_client.client_secret)
    assert userinfo(client, flow.tokens(client)["access_token"]).json()["habilitations"] == []


def test_revoked_and_ended_habilitations_never_appear(client, person, flow, centre):
    establishment = centre.establishment
    live = HabilitationFactory(
        user=person, role=role("ceres", "centre-agree"), establishment=establishment
    )
    HabilitationFactory(
        user=person,
        role=role("ceres", "gestionnaire-centres"),
        establishment=establishment,
        ends_at=timezone.now() - timedelta(minutes=1),
    )
    tokens = flow.tokens(client)
    assert [
        r["code"]
        for e in userinfo(client, tokens["access_token"]).json()["habilitations"]
        for r in e["roles"]
    ] == ["centre-agree"]

    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=live, reason="test")

    # The same access token, asked again: the claim is computed live, never cached.
    assert userinfo(client, tokens["access_token"]).json()["habilitations"] == []
    # A refreshed token does not bring it back either, nor does the new ID token.
    renewed = flow.refresh(client, tokens["refresh_token"]).json()
    assert userinfo(client, renewed["access_token"]).json()["habilitations"] == []


def test_claim_query_count_does_not_grow_with_establishments(
    person, ceres_client, centre, django_assert_max_num_queries
):
    for n in range(5):
        establishment = EstablishmentFactory(siren=make_siren(900 + n))
        HabilitationFactory(
            user=person, role=role("ceres", "centre-agree"), establishment=establishment
        )
    with django_assert_max_num_queries(4):
        claim = habilitations_claim(person, ceres_client.client_id)
    assert len(claim) == 5


def test_inactive_person_gets_no_habilitation(person, ceres_client, centre):
    HabilitationFactory(
        user=person, role=role("ceres", "centre-agree"), establishment=centre.establishment
    )
    person.is_active = False
    assert habilitations_claim(person, ceres_client.client_id) == []


def test_a_suspended_habilitation_is_listed_apart_with_its_reason(client, person, flow, centre):
    kept = HabilitationFactory(
        user=person, role=role("ceres", "gestionnaire-centres"), establishment=centre.establishment
    )
    suspended = HabilitationFactory(
        user=person, role=role("ceres", "centre-agree"), establishment=centre.establishment
    )
    with transaction.atomic():
        suspend_habilitation(
            actor=None,
            habilitation=suspended,
            reason=Habilitation.Suspension.REVIEW_OVERDUE,
        )

    info = userinfo(client, flow.tokens(client)["access_token"]).json()

    (entry,) = info["habilitations"]
    assert [r["code"] for r in entry["roles"]] == [kept.role.code]
    (apart,) = info["habilitations_suspendues"]
    assert apart["siret"] == centre.establishment.siret
    assert apart["role"] == {"code": "centre-agree", "label": "Centre agréé"}
    assert apart["reason"] == "review_overdue"
    assert apart["reason_label"] == "Accès non confirmé lors de la revue des accès"
    assert datetime.fromisoformat(apart["since"]) <= timezone.now()
