"""Input lengths of access requests: the requester's message and the gestionnaire's reason are
bounded in the form and the database, said in French, never cut by the browser (#17 item 3)."""

import html

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from portail.habilitations import access_requests
from portail.habilitations.models import MESSAGE_MAX_LENGTH, AccessRequest
from tests.factories import EstablishmentFactory, UserFactory
from tests.habilitations.factories import gestionnaire_of

pytestmark = pytest.mark.django_db
URL = reverse("demarches:request_access", args=["ceres"])
TOO_LONG = (
    f"Ce texte doit comporter au plus {MESSAGE_MAX_LENGTH} caractères "
    f"(vous en avez saisi {MESSAGE_MAX_LENGTH + 200})."
)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def centre(ceres):
    establishment = EstablishmentFactory()
    return establishment, gestionnaire_of(ceres, establishment)


def test_a_too_long_request_message_is_refused_in_french(client, ceres, centre):
    establishment, _ = centre
    client.force_login(UserFactory())
    assert "maxlength" not in client.get(URL).content.decode()
    role = ceres.roles.get(code="centre-agree")
    data = {
        "siret": establishment.siret,
        "role": role.pk,
        "message": "m" * (MESSAGE_MAX_LENGTH + 200),
    }
    response = client.post(URL, data)
    assert response.status_code == 200
    assert TOO_LONG in text(response)
    assert not AccessRequest.objects.exists()


def test_a_too_long_refusal_reason_is_said_and_the_request_stays_pending(client, ceres, centre):
    establishment, manager = centre
    access_request = access_requests.request_access(
        user=UserFactory(),
        demarche=ceres,
        siret=establishment.siret,
        role=ceres.roles.get(code="centre-agree"),
        message="Merci",
    )
    client.force_login(manager)
    page = client.get(reverse("habilitations:manage", args=["ceres"])).content.decode()
    assert 'name="reason" maxlength' not in page
    url = reverse("demarches:access_request_refuse", args=[access_request.pk])
    response = client.post(url, {"reason": "r" * (MESSAGE_MAX_LENGTH + 200)}, follow=True)
    assert TOO_LONG in text(response)
    access_request.refresh_from_db()
    assert access_request.status == AccessRequest.Status.PENDING


def test_the_database_holds_the_message_bounds(ceres, centre):
    establishment, _ = centre
    access_request = access_requests.request_access(
        user=UserFactory(),
        demarche=ceres,
        siret=establishment.siret,
        role=ceres.roles.get(code="centre-agree"),
    )
    rows = AccessRequest.objects.filter(pk=access_request.pk)
    for field in ("message", "decision_reason"):
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.update(**{field: "x" * (MESSAGE_MAX_LENGTH + 1)})
