"""The management page's reads (`ManagementPage`) and the refusals shown on the gestionnaire's
forms."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from portail.core.refusals import Refusal
from portail.habilitations import flows
from portail.habilitations.grants import HabilitationError
from portail.habilitations.invitation_scope import managed_scope
from portail.habilitations.management_page import (
    MASKED_LINK,
    TABS,
    ManagementPage,
    masked_body,
    people_label,
)
from portail.habilitations.models import Habilitation
from tests.habilitations.factories import person

pytestmark = pytest.mark.django_db


def build(world, query: str = "", **filters: str) -> ManagementPage:
    demarche, establishments, roles = managed_scope(world.gestionnaire, world.demarche.code)
    return ManagementPage.build(demarche, establishments, roles, QueryDict(query), **filters)


def test_the_page_groups_the_people_of_the_scope_by_role(world):
    page = build(world)
    counts = {group["role"].pk: group["count"] for group in page.groups}
    assert counts == {world.centre_role.pk: 2, world.manager_role.pk: 1}
    shown = [row.user.email for group in page.page_groups for row in group["rows"]]
    assert "claire.centre@cfi.fr" in shown
    assert "fanny@autre.fr" not in shown  # another company
    assert page.tab == "personnes"
    assert [e.siret for e in page.establishments] == sorted(e.siret for e in page.establishments)


def test_the_filters_and_an_unknown_tab(world):
    page = build(world, "onglet=nope", filter_text="Claire")
    assert page.tab == "personnes"
    shown = [row.user.email for group in page.page_groups for row in group["rows"]]
    assert shown == ["claire.centre@cfi.fr"]
    assert build(world, "onglet=messages").tab == "messages"


def test_the_context_has_every_variable_the_template_reads(world):
    context = build(world, "page=1").context()
    assert set(context) == {
        "title",
        "demarche",
        "tab",
        "tabs",
        "filter_text",
        "filter_siret",
        "groups",
        "page_groups",
        "people_tables",
        "people",
        "delegations",
        "invitations",
        "access_requests",
        "roles",
        "establishments",
        "emails",
        "now",
        "reviews",
    }
    assert context["tabs"] == TABS
    assert context["people"]["label"] == "page"


def test_open_invitations_are_listed_and_their_links_masked_in_the_history(world):
    sent = flows.invite(
        actor=world.gestionnaire,
        demarche=world.demarche,
        role=world.centre_role,
        establishment=world.head,
        email="nouveau@cfi.fr",
    )
    page = build(world)
    assert [invitation.email for invitation in page.invitations] == ["nouveau@cfi.fr"]
    bodies = [email.display_body for email in page.emails_page.object_list]
    assert bodies
    assert all(sent.token not in body for body in bodies)
    assert any(MASKED_LINK in body for body in bodies)


def test_masked_body_and_people_label():
    body = "Ouvrez https://portail.example/habilitations/invitations/AbC-12_x/ avant demain."
    assert masked_body(body) == f"Ouvrez {MASKED_LINK} avant demain."
    assert people_label(0) == "0 Personne"
    assert people_label(1) == "1 Personne"
    assert people_label(2) == "2 Personnes"


def test_habilitation_errors_are_refusals():
    assert issubclass(HabilitationError, Refusal)
    assert issubclass(flows.InvitationError, Refusal)
    assert issubclass(flows.LastGestionnaireError, Refusal)
    assert flows.InvitationError("Cette invitation a expiré.", "expired").reason == "expired"


def test_a_refused_role_change_is_shown_on_the_role_field(world, client):
    client.force_login(world.gestionnaire)
    centre = Habilitation.objects.get(user=world.centre_user)
    response = client.post(
        reverse("habilitations:change_role", args=[world.demarche.code, centre.pk]),
        {"role": world.centre_role.pk},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["role"] == ["La personne a déjà le rôle « Centre agréé »."]
    assert not form.non_field_errors()


def test_a_refusal_without_a_form_is_shown_in_the_messages(world, client):
    """Revoking the last gestionnaire: the refusal is in the page's messages."""
    client.force_login(world.gestionnaire)
    manager = Habilitation.objects.get(user=world.gestionnaire, role=world.manager_role)
    response = client.post(
        reverse("habilitations:revoke", args=[world.demarche.code, manager.pk]), follow=True
    )
    shown = [str(message) for message in response.context["messages"]]
    assert any("dernier gestionnaire" in message for message in shown), shown
    assert Habilitation.objects.active().filter(pk=manager.pk).exists()


def test_a_person_without_a_name_is_named_by_email_in_the_role_change_message(world, client):
    nameless = person("", "", world.head, email="sans.nom@cfi.fr")
    habilitation = Habilitation.objects.create(
        user=nameless,
        demarche=world.demarche,
        establishment=world.head,
        role=world.centre_role,
        origin=Habilitation.Origin.INVITATION,
    )
    client.force_login(world.gestionnaire)
    response = client.post(
        reverse("habilitations:change_role", args=[world.demarche.code, habilitation.pk]),
        {"role": world.manager_role.pk},
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    assert any(message.startswith("sans.nom@cfi.fr a désormais le rôle") for message in shown)
