"""Every CSV export opens in Excel (French) with its accents: UTF-8 with a byte-order mark."""

import csv
import io

import pytest
from django.urls import reverse

from portail.backoffice.models import LetterBatch
from tests.backoffice.factories import CentreFactory

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"


def export_urls(agent_client):
    centre = CentreFactory(letter_name="Centre Éléonore Ça")
    agent_client.post(reverse("backoffice:centre_letter", kwargs={"pk": centre.pk}))
    batch = LetterBatch.objects.get()
    return {
        "centres": (reverse("backoffice:centres_csv"), "SIRET"),
        "regions": (reverse("backoffice:regions_csv"), "Code région"),
        "batch": (reverse("backoffice:batch_csv", kwargs={"pk": batch.pk}), "SIRET"),
    }


def test_every_csv_export_starts_with_a_byte_order_mark(agent_client, ceres):
    for kind, (url, first_header) in export_urls(agent_client).items():
        response = agent_client.get(url)
        assert response.status_code == 200, kind
        assert response["Content-Type"].startswith("text/csv"), kind
        content = response.content
        assert content.startswith(BOM), kind
        assert not content[len(BOM) :].startswith(BOM), kind  # once only
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][0] == first_header, kind
    centres = agent_client.get(reverse("backoffice:centres_csv")).content.decode("utf-8-sig")
    assert "Centre Éléonore Ça" in centres
