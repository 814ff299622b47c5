"""Regions: the 18 of the data migration; a regional agent sees only theirs (404 elsewhere)."""

import pytest
from django.urls import reverse

from portail.centres.models import Region
from tests.backoffice.factories import CentreFactory
from tests.factories import HabilitationFactory

pytestmark = pytest.mark.django_db


def test_the_18_regions_with_their_insee_codes():
    codes = set(Region.objects.values_list("code", flat=True))
    metropolitan = {"11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"}
    overseas = {"01", "02", "03", "04", "06"}
    assert codes == metropolitan | overseas
    assert Region.objects.get(code="11").name == "DRIEETS Île-de-France"


def test_a_regional_agent_sees_only_the_centres_of_their_regions(pdl_client, regions):
    mine = CentreFactory(region=regions["52"], letter_name="Centre des Pays de la Loire")
    other = CentreFactory(region=regions["11"], letter_name="Centre francilien")
    html = pdl_client.get(reverse("backoffice:centres")).content.decode()
    assert mine.letter_name in html
    assert other.letter_name not in html
    assert (
        other.letter_name not in pdl_client.get(reverse("backoffice:centres_csv")).content.decode()
    )


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("backoffice:centre", "get"),
        ("backoffice:centre_edit", "get"),
        ("backoffice:centre_edit", "post"),
        ("backoffice:centre_close", "post"),
        ("backoffice:centre_letter", "post"),
        ("backoffice:site_add", "post"),
    ],
)
def test_an_agent_of_another_region_gets_404_by_url(pdl_client, regions, name, method):
    other = CentreFactory(region=regions["11"])
    response = getattr(pdl_client, method)(reverse(name, kwargs={"pk": other.pk}))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.closed_at is None
    assert not other.letters.exists()


def test_bulk_letters_only_cover_the_agents_regions(pdl_client, regions):
    CentreFactory(region=regions["52"])
    other = CentreFactory(region=regions["11"])
    response = pdl_client.post(reverse("backoffice:letters"), {})
    assert response["Content-Type"] == "application/pdf"
    assert not other.letters.exists()


def test_the_journal_shows_only_the_events_of_the_agents_centres(pdl_client, regions, ceres):
    from portail.audit.journal import record

    mine = CentreFactory(region=regions["52"])
    other = CentreFactory(region=regions["11"])
    record("test.mine", establishment=mine.establishment, data={"n": 1}, target=mine)
    record("test.other", establishment=other.establishment, data={"n": 2}, target=other)
    html = pdl_client.get(reverse("backoffice:journal")).content.decode()
    assert "test.mine" in html
    assert "test.other" not in html


def test_support_revocation_outside_the_region_is_404(pdl_client, regions, ceres):
    other = CentreFactory(region=regions["11"])
    habilitation = HabilitationFactory(
        role=ceres.roles.get(code="centre-agree"), establishment=other.establishment
    )
    url = reverse(
        "backoffice:support_revoke",
        kwargs={"public_id": habilitation.user.public_id, "habilitation_pk": habilitation.pk},
    )
    assert pdl_client.post(url, {"reason": "essai"}).status_code == 404
    habilitation.refresh_from_db()
    assert habilitation.revoked_at is None
