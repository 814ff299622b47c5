"""Centres agréés: creation from the registry, bad SIRETs, edit, close, sites liés, the list."""

import pytest
from django.urls import reverse

from portail.audit.models import AuditEvent
from portail.centres.models import Centre, LinkedSite
from portail.companies.models import Establishment
from tests.backoffice.factories import CentreFactory
from tests.companies.factories import SireneEtablissementFactory, SireneUniteLegaleFactory
from tests.factories import make_siren, make_siret

pytestmark = pytest.mark.django_db

CREATE = reverse("backoffice:centre_create")


def registry_establishment(**kwargs):
    unite = SireneUniteLegaleFactory(name="CFI ATLANTIQUE")
    return SireneEtablissementFactory(
        unite=unite, address="12 QUAI DE LA FOSSE", postcode="44000", commune="NANTES", **kwargs
    )


def form_data(siret, regions, **extra):
    return {
        "siret": siret,
        "region": regions["52"].pk,
        "agrement_reference": "AGR-52-001",
        "agrement_date": "2018-10-15",
        "contact_email": "contact@cfi.example",
        "letter_name": "",
        "letter_address": "",
        **extra,
    }


def test_search_prefills_name_and_address_from_the_registry(agent_client, regions):
    sirene = registry_establishment()
    response = agent_client.post(
        CREATE, {"siret": sirene.siret, "lookup": "1", "agrement_reference": "AGR-9"}
    )
    html = response.content.decode()
    assert 'value="CFI ATLANTIQUE"' in html
    assert "12 QUAI DE LA FOSSE\n44000 NANTES</textarea>" in html
    assert 'value="AGR-9"' in html
    assert not Centre.objects.exists()
    unknown = agent_client.post(CREATE, {"siret": make_siret(make_siren(4243), 1), "lookup": "1"})
    assert "Ce SIRET est inconnu du répertoire des entreprises." in unknown.content.decode()


def test_create_a_centre_from_a_siret(agent_client, national_agent, regions):
    sirene = registry_establishment()
    response = agent_client.post(
        CREATE, form_data(f"{sirene.siret[:9]} {sirene.siret[9:]}", regions)
    )
    centre = Centre.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("backoffice:centre", kwargs={"pk": centre.pk})
    assert centre.establishment.siret == sirene.siret
    assert centre.establishment.verified
    assert centre.letter_name == "CFI ATLANTIQUE"
    assert centre.letter_address == "12 QUAI DE LA FOSSE\n44000 NANTES"
    assert centre.region.code == "52"
    assert centre.created_by == national_agent.user
    assert AuditEvent.objects.get(action="backoffice.centre.created").actor == national_agent.user


def test_the_agent_may_adjust_the_letter_address(agent_client, regions):
    sirene = registry_establishment()
    agent_client.post(
        CREATE,
        form_data(
            sirene.siret,
            regions,
            letter_name="CFI Atlantique — Service examens",
            letter_address="BP 42\n44001 Nantes Cedex",
        ),
    )
    centre = Centre.objects.get()
    assert centre.letter_name == "CFI Atlantique — Service examens"
    assert centre.letter_address == "BP 42\n44001 Nantes Cedex"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("invalid", "Ce numéro SIRET n&#x27;est pas valide."),
        ("short", "Le numéro SIRET doit comporter 14 chiffres."),
        ("unknown", "Ce SIRET est inconnu du répertoire des entreprises."),
        ("closed", "Cet établissement est fermé selon le répertoire des entreprises"),
        ("already", "Ce SIRET est déjà celui d’un centre agréé"),
    ],
)
def test_bad_sirets_are_refused_on_the_field_and_the_form_stays_filled(
    agent_client, regions, case, message
):
    if case == "invalid":
        siret = make_siret(make_siren(777), 1)[:-1] + "0"
        if siret == make_siret(make_siren(777), 1):
            siret = siret[:-1] + "1"
    elif case == "short":
        siret = "1234"
    elif case == "unknown":
        siret = make_siret(make_siren(4242), 1)
    elif case == "closed":
        siret = registry_establishment(closed=True).siret
    else:
        siret = CentreFactory().establishment.siret
        SireneEtablissementFactory(siret=siret, siren=siret[:9])
    before = Centre.objects.count()
    response = agent_client.post(CREATE, form_data(siret, regions))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "fr-input-group--error" in html
    assert 'value="AGR-52-001"' in html  # kept
    assert Centre.objects.count() == before


def test_a_regional_agent_can_only_choose_their_regions(pdl_client, regions):
    sirene = registry_establishment()
    response = pdl_client.post(CREATE, form_data(sirene.siret, regions, region=regions["11"].pk))
    assert response.status_code == 200
    assert not Centre.objects.exists()


def test_edit_a_centre(agent_client, regions):
    centre = CentreFactory()
    url = reverse("backoffice:centre_edit", kwargs={"pk": centre.pk})
    response = agent_client.post(
        url,
        {
            "region": regions["53"].pk,
            "agrement_reference": "AGR-NEW",
            "agrement_date": "2019-01-02",
            "contact_email": "nouveau@centre.example",
            "letter_name": "Nouveau nom",
            "letter_address": "1 rue Neuve\n35000 Rennes",
        },
    )
    assert response.status_code == 302
    centre.refresh_from_db()
    assert (centre.region.code, centre.letter_name, centre.agrement_reference) == (
        "53",
        "Nouveau nom",
        "AGR-NEW",
    )
    event = AuditEvent.objects.get(action="backoffice.centre.updated")
    assert set(event.data["fields"]) >= {"region", "letter_name", "letter_address"}


def test_edit_with_a_bad_email_keeps_the_form(agent_client, regions):
    centre = CentreFactory()
    url = reverse("backoffice:centre_edit", kwargs={"pk": centre.pk})
    response = agent_client.post(
        url,
        {
            "region": regions["52"].pk,
            "contact_email": "pas-une-adresse",
            "letter_name": "X",
            "letter_address": "Y",
        },
    )
    assert response.status_code == 200
    assert "Saisissez une adresse" in response.content.decode()


def test_close_a_centre(agent_client):
    centre = CentreFactory()
    url = reverse("backoffice:centre_close", kwargs={"pk": centre.pk})
    assert agent_client.post(url, {"reason": ""}).status_code == 200
    agent_client.post(url, {"reason": "Retrait de l’agrément"})
    centre.refresh_from_db()
    assert centre.closed_at is not None
    assert centre.closed_reason == "Retrait de l’agrément"
    page = agent_client.get(reverse("backoffice:centre", kwargs={"pk": centre.pk})).content.decode()
    assert "Générer le courrier" not in page


def test_linked_sites_by_siret_or_address(agent_client):
    centre = CentreFactory()
    sirene = registry_establishment()
    url = reverse("backoffice:site_add", kwargs={"pk": centre.pk})
    assert agent_client.post(url, {"siret": sirene.siret}).status_code == 302
    assert (
        agent_client.post(
            url, {"label": "Annexe du port", "address": "3 quai Est\n44600 Saint-Nazaire"}
        ).status_code
        == 302
    )
    sites = {s.label: s for s in centre.sites.all()}
    assert sites["CFI ATLANTIQUE"].establishment == Establishment.objects.get(siret=sirene.siret)
    assert sites["Annexe du port"].establishment is None
    # Neither SIRET nor address: an error on the fields; twice the same SIRET: refused.
    response = agent_client.post(url, {})
    assert "Indiquez le SIRET du site, ou son nom et son adresse." in response.content.decode()
    response = agent_client.post(url, {"siret": sirene.siret})
    assert "Ce site est déjà lié à ce centre." in response.content.decode()
    site = sites["Annexe du port"]
    agent_client.post(
        reverse("backoffice:site_remove", kwargs={"pk": centre.pk, "site_pk": site.pk})
    )
    assert not LinkedSite.objects.filter(pk=site.pk).exists()
    assert AuditEvent.objects.filter(action="backoffice.site.removed").exists()


def test_list_search_filters_and_pagination(agent_client, regions, django_assert_max_num_queries):
    nantes = CentreFactory(region=regions["52"], letter_name="Atelier Nantais")
    rennes = CentreFactory(region=regions["53"], letter_name="Campus Rennais")
    rennes.establishment.commune = "Rennes"
    rennes.establishment.save()
    for _ in range(30):
        CentreFactory(region=regions["52"])
    url = reverse("backoffice:centres")
    with django_assert_max_num_queries(12):
        page = agent_client.get(url).content.decode()
    assert "32 centres" in page
    assert "Page 1 sur 2" in page
    assert "Campus Rennais" in agent_client.get(url, {"q": "rennes"}).content.decode()
    assert "Atelier Nantais" not in agent_client.get(url, {"q": "rennes"}).content.decode()
    assert (
        "Atelier Nantais"
        in agent_client.get(url, {"q": nantes.establishment.siret[:11]}).content.decode()
    )
    by_region = agent_client.get(url, {"region": regions["53"].pk}).content.decode()
    assert "1 centre" in by_region
    assert "Campus Rennais" in by_region
    pending = agent_client.get(url, {"status": "pending"}).content.decode()
    assert "0 centre" in pending


def test_closing_tells_the_centre_and_its_gestionnaires_by_email(agent_client, ceres):
    from portail.notifications.models import OutboxEmail
    from tests.factories import HabilitationFactory

    centre = CentreFactory(contact_email="contact@centre.example")
    manager = HabilitationFactory(
        role=ceres.roles.get(code="gestionnaire-centres"), establishment=centre.establishment
    ).user
    HabilitationFactory(
        role=ceres.roles.get(code="centre-agree"), establishment=centre.establishment
    )
    agent_client.post(
        reverse("backoffice:centre_close", kwargs={"pk": centre.pk}), {"reason": "Retrait"}
    )
    emails = OutboxEmail.objects.filter(template="backoffice/emails/centre_closed")
    assert sorted(e.recipient for e in emails) == sorted(["contact@centre.example", manager.email])
    email = emails.first()
    assert f"Fin de l'agrément CERES de {centre.letter_name}" in email.subject
    assert "le code d'activation en cours ne fonctionne plus" in email.body_text
    assert "01 46 29 25 54" in email.body_text
    assert email.establishment_id == centre.establishment.pk


def selected_region(html):
    """The pk of the region the form's select preselects, or None."""
    select = html[html.index('name="region"') :]
    select = select[: select.index("</select>")]
    marker = '" selected>'
    if marker not in select:
        return None
    value = select[: select.index(marker)].rsplit('value="', 1)[1]
    return int(value) if value else None  # the empty choice "---------"


def test_the_search_preselects_the_region_of_the_establishments_commune(agent_client, regions):
    """#17 item 16: the registry gives the commune (44000 Nantes): Pays de la Loire."""
    sirene = registry_establishment()
    html = agent_client.post(CREATE, {"siret": sirene.siret, "lookup": "1"}).content.decode()
    assert selected_region(html) == regions["52"].pk
    assert "Pré-sélectionnée d’après la commune de l’établissement" in html
    # Still editable: a region the agent chose stays chosen.
    html = agent_client.post(
        CREATE, {"siret": sirene.siret, "lookup": "1", "region": regions["53"].pk}
    ).content.decode()
    assert selected_region(html) == regions["53"].pk
    # Corsica: 20200 Bastia is Haute-Corse (2B), in the DREETS of Corse.
    corse = SireneEtablissementFactory(postcode="20200", commune="BASTIA")
    html = agent_client.post(CREATE, {"siret": corse.siret, "lookup": "1"}).content.decode()
    assert selected_region(html) == regions["94"].pk
    # The map the page's script reads: every département of the regions the agent may choose.
    assert f'"2B": {regions["94"].pk}' in html
    assert f'"976": {regions["06"].pk}' in html


def test_a_national_agent_gets_no_region_before_the_search(agent_client, regions):
    assert selected_region(agent_client.get(CREATE).content.decode()) is None


def test_a_regional_agent_gets_their_own_region(pdl_client, regions):
    assert selected_region(pdl_client.get(CREATE).content.decode()) == regions["52"].pk
    # Even for an establishment of another region: theirs is the only one they may choose.
    paris = SireneEtablissementFactory(postcode="75015", commune="PARIS")
    html = pdl_client.post(CREATE, {"siret": paris.siret, "lookup": "1"}).content.decode()
    assert selected_region(html) == regions["52"].pk
    assert f'value="{regions["11"].pk}"' not in html


def test_an_agent_of_several_regions_gets_the_communes_if_it_is_theirs(client, regions, ceres):
    from tests.backoffice.conftest import login_agent
    from tests.backoffice.factories import AgentFactory

    agent_client = login_agent(client, AgentFactory(regions=["52", "53"]))
    assert selected_region(agent_client.get(CREATE).content.decode()) is None
    sirene = registry_establishment()  # Nantes
    html = agent_client.post(CREATE, {"siret": sirene.siret, "lookup": "1"}).content.decode()
    assert selected_region(html) == regions["52"].pk
    paris = SireneEtablissementFactory(postcode="75015", commune="PARIS")
    html = agent_client.post(CREATE, {"siret": paris.siret, "lookup": "1"}).content.decode()
    assert selected_region(html) is None
