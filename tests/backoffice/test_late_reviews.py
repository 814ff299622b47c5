"""The agents' list of centres whose access review is late, per region, and its CSV export:
every role checked on the server."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.habilitations import access_review as reviews
from portail.habilitations.models import AccessReview, Habilitation
from tests.backoffice.conftest import login_agent
from tests.backoffice.factories import CentreFactory
from tests.factories import HabilitationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def late(regions, ceres):
    """Three centres of Pays de la Loire and one of Île-de-France, reviewed every 12 months:
    two of 52 and the one of 11 are late, the third of 52 confirmed in time."""
    ceres.access_review_months = 12
    ceres.save(update_fields=["access_review_months"])
    gestionnaire_role = ceres.roles.get(can_manage=True)
    centres = {
        "late": CentreFactory(region=regions["52"], letter_name="CENTRE EN RETARD"),
        "late2": CentreFactory(region=regions["52"], letter_name="AUTRE RETARD"),
        "done": CentreFactory(region=regions["52"], letter_name="CENTRE À JOUR"),
        "idf": CentreFactory(region=regions["11"], letter_name="CENTRE FRANCILIEN"),
    }
    managers = {
        key: HabilitationFactory(role=gestionnaire_role, establishment=centre.establishment).user
        for key, centre in centres.items()
    }
    Habilitation.objects.update(granted_at=timezone.now() - timedelta(days=500))
    now = timezone.now() - timedelta(days=40)
    reviews.run_access_reviews(now=now)
    done = AccessReview.objects.get(siren=centres["done"].establishment.siren)
    reviews.confirm_all(actor=managers["done"], review=done)
    return centres, managers


REGION = reverse("backoffice:late_reviews_region", args=["52"])
CSV_URL = reverse("backoffice:late_reviews_csv", args=["52"])
COUNTS = reverse("backoffice:late_reviews")


def test_the_region_lists_its_late_centres(client, pdl_agent, late):
    login_agent(client, pdl_agent)
    text = client.get(REGION).content.decode()
    assert "CENTRE EN RETARD" in text
    assert "AUTRE RETARD" in text
    assert "CENTRE À JOUR" not in text
    assert "CENTRE FRANCILIEN" not in text
    assert "2 centres dont la revue des accès à CERES est en retard." in text

    counts = client.get(COUNTS).content.decode()
    assert "DREETS Pays de la Loire" in counts or "Pays de la Loire" in counts
    assert "Île-de-France" not in counts  # not one of this agent's regions


def test_the_csv_export_of_a_region(client, pdl_agent, late):
    login_agent(client, pdl_agent)
    response = client.get(CSV_URL)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode()), delimiter=";")
    )
    assert rows[0][0] == "\ufeffSIRET"
    assert rows[0][1:] == [
        "Nom",
        "Commune",
        "Région",
        "Revue ouverte le",
        "À faire avant le",
        "Jours de retard",
    ]
    assert sorted(row[1] for row in rows[1:]) == ["AUTRE RETARD", "CENTRE EN RETARD"]
    assert {row[6] for row in rows[1:]} == {"10"}
    assert AuditEvent.objects.filter(action="backoffice.export", data__kind="late_reviews").exists()


@pytest.mark.parametrize("url", [COUNTS, REGION, CSV_URL])
@pytest.mark.parametrize("who", ["anonymous", "nobody", "gestionnaire"])
def test_everyone_but_an_agent_gets_a_404(client, late, url, who):
    _centres, managers = late
    if who == "nobody":
        client.force_login(UserFactory())
    elif who == "gestionnaire":
        client.force_login(managers["late"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        reverse("backoffice:late_reviews_region", args=["11"]),
        reverse("backoffice:late_reviews_csv", args=["11"]),
    ],
)
def test_an_agent_sees_only_the_regions_they_look_after(client, pdl_agent, late, url):
    login_agent(client, pdl_agent)
    assert client.get(url).status_code == 404


def test_a_national_agent_sees_every_region(client, national_agent, late):
    login_agent(client, national_agent)
    text = client.get(reverse("backoffice:late_reviews_region", args=["11"])).content.decode()
    assert "CENTRE FRANCILIEN" in text
