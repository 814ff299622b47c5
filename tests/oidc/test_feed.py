"""`GET /o/demarches/<code>/habilitation-changes/`: a démarche reads its own feed, by pages, with
its client credentials; bad cursors get a clear error."""

import pytest
from django.db import transaction

from portail.demarches.models import Demarche
from portail.habilitations.grants import grant_habilitation, revoke_habilitation
from portail.habilitations.models import Habilitation
from portail.oidc.clients import register_demarche_client
from tests.factories import EstablishmentFactory, UserFactory
from tests.oidc.helpers import REDIRECT_URI, basic_auth

pytestmark = pytest.mark.django_db

URL = "/o/demarches/{code}/habilitation-changes/"


def changes(client, registered, code="ceres", **params):
    return client.get(
        URL.format(code=code),
        params,
        HTTP_AUTHORIZATION=basic_auth(registered.client_id, registered.client_secret),
    )


def make_changes(ceres, count):
    """`count` grants in CERES, each on its own establishment; the people."""
    role = ceres.roles.get(can_manage=False)
    people = []
    for _ in range(count):
        user = UserFactory()
        with transaction.atomic():
            grant_habilitation(
                actor=None,
                user=user,
                role=role,
                establishment=EstablishmentFactory(),
                origin=Habilitation.Origin.AGENT,
            )
        people.append(user)
    return people


def test_pages_in_order_with_sub_and_siret_only(client, ceres, ceres_client):
    people = make_changes(ceres, 5)
    first = changes(client, ceres_client, limit=2)
    assert first.status_code == 200
    page = first.json()
    assert [e["sequence"] for e in page["events"]] == [1, 2]
    assert page["next_cursor"] == "2"
    assert page["has_more"] is True
    assert page["last_sequence"] == 5
    event = page["events"][0]
    habilitation = Habilitation.objects.get(user=people[0])
    assert event == {
        "id": "ceres:1",
        "sequence": 1,
        "type": "granted",
        "sub": str(people[0].public_id),
        "siret": habilitation.establishment.siret,
        "roles_before": [],
        "roles_after": [habilitation.role.code],
        "occurred_at": event["occurred_at"],
    }
    assert event["occurred_at"].endswith("Z")
    # Nothing personal beyond sub and SIRET.
    assert people[0].email not in first.content.decode()
    assert people[0].last_name not in first.content.decode()
    rest = changes(client, ceres_client, after=page["next_cursor"]).json()
    assert [e["sequence"] for e in rest["events"]] == [3, 4, 5]
    assert rest["has_more"] is False
    end = changes(client, ceres_client, after=rest["next_cursor"]).json()
    assert end["events"] == []
    assert end["next_cursor"] == "5"


def test_a_revocation_follows(client, ceres, ceres_client):
    (user,) = make_changes(ceres, 1)
    with transaction.atomic():
        revoke_habilitation(actor=None, habilitation=Habilitation.objects.get(user=user))
    events = changes(client, ceres_client, after="1").json()["events"]
    assert [(e["type"], e["roles_after"]) for e in events] == [("revoked", [])]


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "9" * 30, "99"])
def test_a_forged_or_future_cursor_is_refused_clearly(client, ceres, ceres_client, cursor):
    make_changes(ceres, 2)
    response = changes(client, ceres_client, after=cursor)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_cursor"
    assert "curseur" in body["error_description"].lower()


def test_bad_limit_is_refused(client, ceres, ceres_client):
    assert changes(client, ceres_client, limit="0").status_code == 400
    assert changes(client, ceres_client, limit="x").status_code == 400
    make_changes(ceres, 2)
    assert len(changes(client, ceres_client, limit="100000").json()["events"]) == 2


def test_another_demarches_feed_is_refused(client, ceres, ceres_client):
    make_changes(ceres, 1)
    other_demarche = Demarche.objects.exclude(code="ceres")[0]
    other = register_demarche_client(
        actor=None, demarche=other_demarche, redirect_uris=[REDIRECT_URI]
    )
    refused = changes(client, other, code="ceres")
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert changes(client, other, code="inconnue").status_code == 403
    own = changes(client, other, code=other_demarche.code)
    assert own.status_code == 200
    assert own.json()["events"] == []


def test_client_authentication_is_required(client, ceres, ceres_client):
    assert client.get(URL.format(code="ceres")).status_code == 401
    wrong = client.get(
        URL.format(code="ceres"), HTTP_AUTHORIZATION=basic_auth(ceres_client.client_id, "faux")
    )
    assert wrong.status_code == 401
    assert client.post(URL.format(code="ceres")).status_code in (401, 403, 405)
