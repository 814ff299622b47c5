"""Input lengths in the back-office: a bound in the form and the database, said in French,
never a silent cut by the browser (#17 item 3)."""

import html

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from portail.backoffice.forms import REVOKE_REASON_MAX_LENGTH
from portail.centres.models import ADDRESS_MAX_LENGTH, Centre, LinkedSite
from portail.habilitations.models import Habilitation
from tests.backoffice.factories import CentreFactory
from tests.backoffice.test_import import HEADER, siret, upload
from tests.factories import HabilitationFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_5000_character_site_address_is_refused_in_french(agent_client):
    centre = CentreFactory()
    url = reverse("backoffice:site_add", kwargs={"pk": centre.pk})
    response = agent_client.post(url, {"label": "Annexe", "address": "x" * 5000})
    assert response.status_code == 200
    assert (
        f"Ce texte doit comporter au plus {ADDRESS_MAX_LENGTH} caractères "
        "(vous en avez saisi 5000)." in text(response)
    )
    assert not LinkedSite.objects.exists()
    # The form shows no maxlength: the browser would cut the text without a word.
    assert "maxlength" not in response.content.decode()


def test_an_address_at_the_bound_is_kept(agent_client):
    centre = CentreFactory()
    url = reverse("backoffice:site_add", kwargs={"pk": centre.pk})
    address = "y" * ADDRESS_MAX_LENGTH
    assert agent_client.post(url, {"label": "Annexe", "address": address}).status_code == 302
    assert LinkedSite.objects.get().address == address


def test_the_database_holds_the_address_bounds():
    centre = CentreFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LinkedSite.objects.create(centre=centre, label="A", address="z" * (ADDRESS_MAX_LENGTH + 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Centre.objects.filter(pk=centre.pk).update(letter_address="z" * (ADDRESS_MAX_LENGTH + 1))


def test_the_centre_letter_address_is_bounded_on_the_form(agent_client):
    centre = CentreFactory()
    url = reverse("backoffice:centre_edit", kwargs={"pk": centre.pk})
    page = agent_client.get(url).content.decode()
    assert "maxlength" not in page
    data = {
        "region": centre.region.pk,
        "letter_name": centre.letter_name,
        "letter_address": "a" * 700,
        "agrement_reference": "",
        "agrement_date": "",
        "contact_email": "",
    }
    response = agent_client.post(url, data)
    assert response.status_code == 200
    assert f"au plus {ADDRESS_MAX_LENGTH} caractères (vous en avez saisi 700)" in text(response)


def test_an_import_line_with_a_too_long_address_is_reported(agent_client):
    response = upload(agent_client, "\n".join([HEADER, f"{siret(40)};Centre;{'r' * 700};52"]))
    assert response.status_code == 200
    assert f"adresse de 700 caractères, {ADDRESS_MAX_LENGTH} au plus" in text(response)
    assert not Centre.objects.exists()


def test_a_too_long_revocation_reason_is_said_not_cut(agent_client, ceres):
    habilitation = HabilitationFactory(role=ceres.roles.get(code="centre-agree"))
    page = reverse("backoffice:support_account", kwargs={"public_id": habilitation.user.public_id})
    assert "maxlength" not in agent_client.get(page).content.decode()
    url = reverse(
        "backoffice:support_revoke",
        kwargs={"public_id": habilitation.user.public_id, "habilitation_pk": habilitation.pk},
    )
    response = agent_client.post(url, {"reason": "m" * 300}, follow=True)
    assert f"au plus {REVOKE_REASON_MAX_LENGTH} caractères (vous en avez saisi 300)" in text(
        response
    )
    habilitation.refresh_from_db()
    assert habilitation.revoked_at is None
    # The longest reason, behind the "Agent : " the flow adds, fits the habilitation's column.
    agent_client.post(url, {"reason": "m" * REVOKE_REASON_MAX_LENGTH})
    habilitation.refresh_from_db()
    assert habilitation.revoked_at is not None
    assert (
        len(habilitation.revoke_reason) == Habilitation._meta.get_field("revoke_reason").max_length
    )
