"""The agents' journal (#17 item 8): one event per action, filters by date, action, region,
SIRET and account, refused in French when wrong, and the CSV export of what is filtered —
never more than the agent may see."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from portail.audit.journal import record
from portail.audit.models import AuditEvent
from portail.backoffice import journal as agents_journal
from tests.backoffice.conftest import login_agent
from tests.backoffice.factories import AgentFactory, CentreFactory
from tests.factories import EstablishmentFactory, HabilitationFactory, UserFactory

pytestmark = pytest.mark.django_db

JOURNAL = reverse("backoffice:journal")
CSV_URL = reverse("backoffice:journal_csv")
BOM = b"\xef\xbb\xbf"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def at(monkeypatch):
    """record(...) at a given time: at(datetime(2026, 3, 1, 10, tzinfo=PARIS), "action", ...)."""

    def write(when, action, **kwargs):
        monkeypatch.setattr(timezone, "now", lambda: when)
        try:
            return record(action, **kwargs)
        finally:
            monkeypatch.undo()

    return write


def csv_rows(response):
    assert response.streaming  # a large journal is never held in memory
    content = b"".join(response.streaming_content)
    assert content.startswith(BOM)
    assert not content[len(BOM) :].startswith(BOM)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def page_of(client, **params):
    """The journal's count line and table (not the filters' list of actions)."""
    response = client.get(JOURNAL, params)
    assert response.status_code == 200
    html = response.content.decode()
    filters = html.index('aria-label="Filtrer le journal"')
    return html[html.index("</form>", filters) :]


@pytest.fixture
def world(regions, ceres, at):
    """Events in Pays de la Loire (a centre and its site lié) and in Île-de-France."""
    nantes = CentreFactory(region=regions["52"], letter_name="Centre nantais")
    site = EstablishmentFactory(name="Site lié d’Angers")
    nantes.sites.create(establishment=site)
    paris = CentreFactory(region=regions["11"], letter_name="Centre parisien")
    person = UserFactory(email="marie.curie@example.com")
    habilitation = HabilitationFactory(
        user=person, role=ceres.roles.get(code="centre-agree"), establishment=nantes.establishment
    )
    at(
        datetime(2026, 3, 1, 9, tzinfo=PARIS),
        "habilitation.revoked",
        target=habilitation,
        establishment=nantes.establishment,
        data={"support": True, "reason": "Départ signalé"},
    )
    at(datetime(2026, 3, 2, 9, tzinfo=PARIS), "site.event", target=site, establishment=site)
    at(
        datetime(2026, 3, 3, 9, tzinfo=PARIS),
        "paris.event",
        target=paris,
        establishment=paris.establishment,
    )
    at(datetime(2026, 3, 4, 9, tzinfo=PARIS), "account.login", actor=person, target=person)
    return {"nantes": nantes, "site": site, "paris": paris, "person": person}


def test_the_filters(agent_client, world):
    everything = page_of(agent_client)
    for action in ("Habilitation révoquée", "site.event", "paris.event", "Connexion"):
        assert action in everything  # a national agent sees every event
    assert "4 événements" in everything

    dated = page_of(agent_client, date_from="2026-03-02", date_to="02/03/2026")
    assert "1 événement" in dated
    assert "site.event" in dated

    action = page_of(agent_client, action="habilitation.revoked")
    assert "1 événement" in action
    assert "Départ signalé" in action

    region = page_of(agent_client, region=world["nantes"].region.pk)
    assert "2 événements" in region
    assert "paris.event" not in region

    siret = page_of(agent_client, siret=world["site"].siret)
    assert "1 événement" in siret
    assert "site.event" in siret
    siren = page_of(agent_client, siret=world["paris"].establishment.siren)
    assert "1 événement" in siren
    assert "paris.event" in siren

    account = page_of(agent_client, account="MARIE.CURIE@example.com")
    assert "2 événements" in account  # what the person did, and what was done to them
    assert "Habilitation révoquée" in account
    assert "Connexion" in account

    support = page_of(agent_client, support="on")
    assert "1 événement" in support
    assert ">assistance</span>" in support


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "32/13/2026"}, "Date invalide : saisissez-la au format JJ/MM/AAAA."),
        ({"date_to": "demain"}, "Date invalide : saisissez-la au format JJ/MM/AAAA."),
        ({"date_to": "9999-12-31"}, "Saisissez une date entre 2000 et 2100."),
        (
            {"date_from": "2026-03-05", "date_to": "2026-03-01"},
            "La date de fin doit suivre la date de début.",
        ),
        ({"action": "backoffice.everything"}, "Action inconnue : choisissez-la dans la liste."),
        ({"region": "999999"}, "Région inconnue : choisissez-la dans la liste."),
        ({"region": "Bretagne"}, "Région inconnue : choisissez-la dans la liste."),
        ({"siret": "1234"}, "Saisissez un SIRET (14 chiffres) ou un SIREN (9 chiffres)."),
        ({"account": "pas une adresse"}, "Saisissez une adresse électronique valide, ou rien."),
        ({"siret": "x" * 30}, "Ce texte doit comporter au plus 20 caractères"),
    ],
)
def test_bad_filters_are_refused_in_french_and_lose_nothing(agent_client, world, params, message):
    response = agent_client.get(JOURNAL, {**params, "account": params.get("account", "a@b.fr")})
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "Corrigez les filtres signalés pour afficher le journal." in html
    assert "paris.event" not in html  # no events under filters that do not hold
    export = agent_client.get(CSV_URL, params)
    assert export.status_code == 400
    assert message in export.content.decode()
    assert not AuditEvent.objects.filter(action="backoffice.export").exists()


def test_a_bad_page_number_is_the_first_page(agent_client, world):
    assert "4 événements" in page_of(agent_client, page="abc")


def test_the_export_is_what_is_filtered(agent_client, national_agent, world):
    rows = csv_rows(agent_client.get(CSV_URL, {"region": world["nantes"].region.pk}))
    assert rows[0] == agents_journal.CSV_HEADER
    assert len(rows) == 3
    by_action = {row[2]: row for row in rows[1:]}
    revoked = by_action["Habilitation révoquée"]
    assert revoked[0] == "01/03/2026 09:00:00"
    assert revoked[3] == "oui"  # the support's
    assert revoked[5] == world["nantes"].establishment.siret
    assert revoked[6] == "Départ signalé"
    assert by_action["site.event"][5] == world["site"].siret
    export = AuditEvent.objects.get(action="backoffice.export")
    assert export.actor == national_agent.user
    assert export.data == {"kind": "journal", "filters": {"region": str(world["nantes"].region)}}


def test_the_export_streams_in_chunks(agent_client, world, monkeypatch):
    monkeypatch.setattr(agents_journal, "CHUNK", 3)
    centre = world["nantes"]
    for n in range(7):
        record(f"bulk.{n}", target=centre, establishment=centre.establishment)
    rows = csv_rows(agent_client.get(CSV_URL))
    assert len(rows) == 1 + 4 + 7 + 1  # the export itself is journaled first
    bulk = [row for row in rows if row[2].startswith("bulk.")]
    assert {row[5] for row in bulk} == {centre.establishment.siret}  # every chunk has its SIRETs


# --- Who sees what ------------------------------------------------------------------------


def test_a_regional_agent_sees_and_exports_only_their_region(pdl_client, world):
    html = page_of(pdl_client)
    assert "Habilitation révoquée" in html
    assert "site.event" in html
    assert "paris.event" not in html
    assert "Connexion" not in html  # an event of no establishment: not theirs
    # Filters narrow, never widen: the person's events outside the region stay hidden.
    account = page_of(pdl_client, account="marie.curie@example.com")
    assert "1 événement" in account
    rows = csv_rows(pdl_client.get(CSV_URL))
    assert sorted(row[2] for row in rows[1:]) == ["Habilitation révoquée", "site.event"]
    rows = csv_rows(pdl_client.get(CSV_URL, {"siret": world["paris"].establishment.siret}))
    assert rows == [agents_journal.CSV_HEADER]


def test_another_regions_filter_is_refused_not_shown(pdl_client, world, regions):
    html = pdl_client.get(JOURNAL, {"region": regions["11"].pk}).content.decode()
    assert "<tbody>" not in html
    assert "Région inconnue : choisissez-la dans la liste." in html
    assert "paris.event" not in html
    assert pdl_client.get(CSV_URL, {"region": regions["11"].pk}).status_code == 400
    # Their own region's choice only, in the list.
    assert f'value="{regions["11"].pk}"' not in html
    assert f'value="{regions["52"].pk}"' in html


def test_an_agent_of_several_regions_sees_each_of_them(client, world, regions):
    login_agent(client, AgentFactory(regions=["52", "11"]))
    html = page_of(client)
    assert "site.event" in html
    assert "paris.event" in html
    assert "Connexion" not in html
    assert "paris.event" not in page_of(client, region=regions["52"].pk)


@pytest.mark.parametrize("url", [JOURNAL, CSV_URL])
@pytest.mark.parametrize("kind", ["anonymous", "portal_user", "agent_without_otp"])
def test_the_journal_is_404_to_everybody_else(client, pdl_agent, world, url, kind):
    if kind == "portal_user":
        client.force_login(world["person"])
    elif kind == "agent_without_otp":
        client.force_login(pdl_agent.user)
    response = client.get(url, {"region": world["nantes"].region.pk})
    assert response.status_code == 404
    assert b"paris.event" not in response.content
    assert not AuditEvent.objects.filter(action="backoffice.export").exists()


def test_the_page_runs_a_fixed_number_of_queries(pdl_client, world, django_assert_max_num_queries):
    centre = world["nantes"]
    for n in range(60):
        establishment = EstablishmentFactory()
        centre.sites.create(establishment=establishment)
        record(f"many.{n}", target=centre, establishment=establishment)
    with django_assert_max_num_queries(12):
        html = page_of(pdl_client, region=centre.region.pk)
    assert "62 événements" in html
    assert "Page 1 sur 2" in html


def test_the_support_page_links_to_the_accounts_journal(agent_client, world):
    person = world["person"]
    html = agent_client.get(
        reverse("backoffice:support_account", kwargs={"public_id": person.public_id})
    ).content.decode()
    link = f"{JOURNAL}?account=marie.curie%40example.com"
    assert f'href="{link}"' in html
    assert "2 événements" in page_of(agent_client, account=person.email)


def test_the_supports_former_events_still_count_as_the_supports(agent_client, world):
    record("backoffice.support.ratelimit_lifted", target=world["person"])
    html = page_of(agent_client, support="on")
    assert "2 événements" in html
    assert "Assistance : attente levée" in html


def test_a_typed_text_is_never_a_formula_in_the_export(agent_client, world):
    centre = world["nantes"]
    record(
        "habilitation.revoked",
        target=centre,
        establishment=centre.establishment,
        data={"reason": '=HYPERLINK("http://example.com","x")'},
    )
    rows = csv_rows(agent_client.get(CSV_URL, {"siret": centre.establishment.siret}))
    assert '\'=HYPERLINK("http://example.com","x")' in [row[6] for row in rows]


def test_a_deleted_accounts_events_are_found_by_its_email(agent_client, world):
    gone = UserFactory(email="parti@example.com")
    record("account.deleted", actor=gone, target=gone)
    gone.delete()
    html = page_of(agent_client, account="Parti@example.com")
    assert "1 événement" in html
    assert "Compte supprimé" in html


def test_the_export_is_bounded_and_the_page_says_so(agent_client, world, monkeypatch):
    monkeypatch.setattr(agents_journal, "EXPORT_MAX_ROWS", 3)
    html = page_of(agent_client)
    assert "L’export CSV contient les 3 événements les plus récents" in html
    assert "Plus de 3 événements" in html  # counted no further than the bound
    rows = csv_rows(agent_client.get(CSV_URL))
    assert len(rows) == 1 + 3
    assert rows[1][2] == "Export CSV"  # the most recent first: the export itself
    assert "L’export CSV contient" not in page_of(agent_client, action="habilitation.revoked")
