"""Follow-up: per centre (code dates, use, people per role) and per region, with CSV exports."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.backoffice import flows
from portail.backoffice.followup import region_counts
from portail.demarches.codes import issue_activation_code
from tests.backoffice.factories import CentreFactory
from tests.factories import HabilitationFactory, UserFactory

pytestmark = pytest.mark.django_db


def with_code(centre, ceres, state):
    row, _ = issue_activation_code(
        actor=None,
        demarche=ceres,
        siret=centre.establishment.siret,
        establishment=centre.establishment,
    )
    if state == "used":
        row.used_at = timezone.now()
        row.used_by = UserFactory(email=f"gestion-{centre.pk}@centre.example")
        row.save()
    elif state == "expired":
        row.issued_at = timezone.now() - timedelta(days=400)
        row.expires_at = timezone.now() - timedelta(days=1)
        row.save()
    return row


@pytest.fixture
def landscape(regions, ceres):
    pdl, idf = regions["52"], regions["11"]
    centres = {
        "activated": CentreFactory(region=pdl),
        "pending": CentreFactory(region=pdl),
        "expired": CentreFactory(region=pdl),
        "none": CentreFactory(region=pdl),
        "closed": CentreFactory(region=pdl),
        "idf": CentreFactory(region=idf),
    }
    with_code(centres["activated"], ceres, "used")
    with_code(centres["pending"], ceres, "usable")
    with_code(centres["expired"], ceres, "expired")
    with_code(centres["idf"], ceres, "usable")
    with_code(centres["closed"], ceres, "usable")
    flows.close_centre(actor=None, centre=centres["closed"], reason="Fin d’agrément")
    return centres


def test_counts_per_region(national_agent, ceres, landscape, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        counts = {row["region"].code: row for row in region_counts(national_agent, ceres)}
    assert len(counts) == 18
    pdl = counts["52"]
    assert (pdl["approved"], pdl["activated"], pdl["pending"], pdl["expired"]) == (4, 1, 1, 1)
    idf = counts["11"]
    assert (idf["approved"], idf["activated"], idf["pending"], idf["expired"]) == (1, 0, 1, 0)
    assert counts["53"]["approved"] == 0


def test_a_regional_agent_counts_only_their_regions(pdl_agent, ceres, landscape):
    counts = region_counts(pdl_agent, ceres)
    assert [row["region"].code for row in counts] == ["52"]


def test_status_filter_of_the_list(agent_client, landscape):
    url = reverse("backoffice:centres")
    for status, key in [
        ("activated", "activated"),
        ("pending", "pending"),
        ("expired", "expired"),
        ("no_code", "none"),
    ]:
        html = agent_client.get(url, {"status": status}).content.decode()
        assert landscape[key].letter_name in html, status
        others = [c for k, c in landscape.items() if k not in (key, "idf", "closed")]
        assert not any(c.letter_name in html for c in others), status


def test_regions_csv(agent_client, landscape):
    content = agent_client.get(reverse("backoffice:regions_csv")).content.decode("utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(content), delimiter=";")}
    assert rows["Code région"] == [
        "Code région",
        "Région",
        "Centres agréés",
        "Activés",
        "En attente",
        "Codes expirés",
    ]
    assert rows["52"][2:] == ["4", "1", "1", "1"]
    from portail.audit.models import AuditEvent

    assert AuditEvent.objects.get(action="backoffice.export").data == {"kind": "regions"}


def test_centres_csv_tells_who_used_the_code(agent_client, landscape):
    content = agent_client.get(
        reverse("backoffice:centres_csv"), {"include_closed": "on"}
    ).content.decode("utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(content), delimiter=";")}
    activated = rows[landscape["activated"].establishment.siret]
    assert activated[6] == "Activé"
    assert activated[10] == f"gestion-{landscape['activated'].pk}@centre.example"
    assert rows[landscape["expired"].establishment.siret][6] == "Code expiré"
    assert rows[landscape["none"].establishment.siret][6] == "Aucun code valide"
    assert rows[landscape["closed"].establishment.siret][11] != ""


def test_the_centre_page_shows_code_dates_use_and_people_per_role(agent_client, ceres, landscape):
    centre = landscape["activated"]
    gestionnaire = ceres.roles.get(code="gestionnaire-centres")
    agree = ceres.roles.get(code="centre-agree")
    HabilitationFactory(role=gestionnaire, establishment=centre.establishment)
    HabilitationFactory(role=agree, establishment=centre.establishment)
    HabilitationFactory(role=agree, establishment=centre.establishment)
    revoked = HabilitationFactory(role=agree, establishment=centre.establishment)
    revoked.revoked_at = timezone.now()
    revoked.save()
    html = agent_client.get(reverse("backoffice:centre", kwargs={"pk": centre.pk})).content.decode()
    assert f"gestion-{centre.pk}@centre.example" in html
    assert "<td>Gestionnaire CENTRES</td><td>1</td>" in html
    assert "<td>Centre agréé</td><td>2</td>" in html
    assert "Activé" in html


def test_the_journal_pages_keep_no_filter_in_their_links(agent_client, national_agent):
    centre = CentreFactory()
    for number in range(51):
        flows.update_centre(
            actor=national_agent.user,
            centre=centre,
            data={name: getattr(centre, name) for name in flows.EDITABLE}
            | {"agrement_reference": f"AGR-{number}"},
        )
    html = agent_client.get(reverse("backoffice:journal")).content.decode()
    assert 'href="?page=2"' in html
    assert "Page 1 sur 2" in html
