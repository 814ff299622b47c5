"""`management_lists`' one statement answers what the ORM's query sets answer, case by case: it is
hand-written SQL, a condition left out would show here."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portail.habilitations.management_lists import Lists, lists_of
from portail.habilitations.models import AccessRequest, AccessReview, Invitation
from portail.notifications.models import OutboxEmail
from tests.habilitations.factories import ceres, company, other_demarche, person

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def orm(demarche, scope) -> Lists:
    of_scope = {"demarche": demarche, "establishment_id__in": scope}
    reviews = AccessReview.objects.filter(**of_scope)
    return Lists(
        Invitation.objects.open().filter(**of_scope).exists(),
        AccessRequest.objects.pending().filter(**of_scope).exists(),
        OutboxEmail.objects.about(demarche.pk, scope).count(),
        reviews.filter(closed_at__isnull=True).exists()
        or reviews.filter(completed_at__isnull=False).exists(),
    )


def invitation(demarche, role, place, **fields):
    defaults = {"expires_at": NOW + timedelta(days=3)}
    return Invitation.objects.create(
        demarche=demarche,
        role=role,
        establishment=place,
        email="invite@banc.fr",
        token_hash=f"h{Invitation.objects.count()}",
        **(defaults | fields),
    )


def request(demarche, role, place, **fields):
    requester = person("Demandeur", "Banc", place, email=f"d{AccessRequest.objects.count()}@b.fr")
    defaults = {"status": AccessRequest.Status.PENDING, "expires_at": NOW + timedelta(days=3)}
    return AccessRequest.objects.create(
        requester=requester,
        demarche=demarche,
        role=role,
        establishment=place,
        **(defaults | fields),
    )


def review(demarche, place, **fields):
    return AccessReview.objects.create(
        demarche=demarche,
        siren=place.siren,
        establishment=place,
        deadline=NOW + timedelta(days=30),
        **fields,
    )


def email(demarche_id, place):
    return OutboxEmail.objects.create(
        recipient="x@banc.fr",
        subject="Objet",
        body_text="Texte",
        demarche_id=demarche_id,
        establishment_id=place.pk,
    )


CASES = {
    "nothing": [],
    "an open invitation": [("invitation", "head", {})],
    "an expired invitation (still open)": [
        ("invitation", "head", {"expires_at": NOW - timedelta(days=1)})
    ],
    "accepted, refused, cancelled invitations": [
        ("invitation", "head", {"accepted_at": NOW}),
        ("invitation", "head", {"refused_at": NOW}),
        ("invitation", "head", {"cancelled_at": NOW}),
    ],
    "an invitation elsewhere": [("invitation", "elsewhere", {})],
    "an invitation of another démarche": [("invitation other", "head", {})],
    "a pending request": [("request", "site", {})],
    "an expired request": [("request", "site", {"expires_at": NOW - timedelta(seconds=1)})],
    "an answered request": [("request", "site", {"status": AccessRequest.Status.ACCEPTED})],
    "emails": [("email", "head", {}), ("email", "site", {}), ("email", "elsewhere", {})],
    "an email of another démarche": [("email other", "head", {})],
    "an open review": [("review", "head", {})],
    "a completed review": [("review", "head", {"completed_at": NOW, "closed_at": NOW})],
    "a review closed without completion": [("review", "head", {"closed_at": NOW})],
    "a review elsewhere": [("review", "elsewhere", {})],
}


@pytest.mark.parametrize("case", CASES)
def test_the_statement_agrees_with_the_orm(case):
    demarche, centre, _manager = ceres()
    autre, autre_role = other_demarche()
    head, site = company(51)
    (elsewhere,) = company(52, name="AILLEURS", sites=1)
    places = {"head": head, "site": site, "elsewhere": elsewhere}
    for what, where, fields in CASES[case]:
        place = places[where]
        if what.startswith("invitation"):
            other = what.endswith("other")
            invitation(
                autre if other else demarche, autre_role if other else centre, place, **fields
            )
        elif what == "request":
            request(demarche, centre, place, **fields)
        elif what.startswith("email"):
            email(autre.pk if what.endswith("other") else demarche.pk, place)
        else:
            review(demarche, place, **fields)
    scope = [head.pk, site.pk]
    assert lists_of(demarche.pk, scope) == orm(demarche, scope)


def test_one_statement_and_none_without_establishments():
    demarche, _centre, _manager = ceres()
    head, site = company(53)
    with CaptureQueriesContext(connection) as captured:
        lists_of(demarche.pk, [head.pk, site.pk])
        assert lists_of(demarche.pk, []) == Lists(False, False, 0, False)
    assert len(captured.captured_queries) == 1
