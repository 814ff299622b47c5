"""An establishment found closed by the Sirene import (a file of changes): its habilitations are
suspended, the people concerned told, the centre's page says so (decision 0022)."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from portail.audit.models import AuditEvent
from portail.backoffice.closures import REASON, handle_establishment_closures
from portail.centres.models import LinkedSite
from portail.companies import sirene_import
from portail.companies.models import EstablishmentClosure
from portail.core import housekeeping
from portail.habilitations.models import Habilitation
from portail.notifications.models import OutboxEmail
from tests.backoffice.conftest import login_agent
from tests.backoffice.factories import AgentFactory, CentreFactory
from tests.factories import EstablishmentFactory, UserFactory, make_siren, make_siret
from tests.habilitations.factories import ceres as ceres_roles
from tests.habilitations.factories import habilitate, person

pytestmark = pytest.mark.django_db

SIREN = make_siren(810000)
HEAD = make_siret(SIREN, 1)
SITE = make_siret(SIREN, 2)
COLUMNS = [*sirene_import.ETABLISSEMENT_COLUMNS, "nic"]


def line(siret, state="A"):
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        siren=SIREN,
        siret=siret,
        nic=siret[9:],
        etablissementSiege="true" if siret == HEAD else "false",
        etatAdministratifEtablissement=state,
        numeroVoieEtablissement="12",
        typeVoieEtablissement="QUAI",
        libelleVoieEtablissement="DE LA FOSSE",
        codePostalEtablissement="44000",
        libelleCommuneEtablissement="NANTES",
    )
    return row


def sirene_file(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def network(regions, tmp_path):
    """A centre agréé of Pays de la Loire (its head office) and a site lié of the same company;
    a gestionnaire at the head office, a "Centre agréé" on the site; an agent of the region and
    one of another; the Sirene stock with both open."""
    demarche, centre_role, manager_role = ceres_roles()
    head = EstablishmentFactory(siren=SIREN, siret=HEAD, name="CFI ESSAI", commune="NANTES")
    site = EstablishmentFactory(
        siren=SIREN, siret=SITE, name="CFI ESSAI", commune="SAINT-NAZAIRE", is_head_office=False
    )
    centre = CentreFactory(establishment=head, contact_email="contact@cfi-essai.fr")
    LinkedSite.objects.create(centre=centre, establishment=site, label="Saint-Nazaire")
    gestionnaire = person("Guy", "Gestion", head, email="guy@cfi-essai.fr")
    habilitate(gestionnaire, manager_role, head, origin=Habilitation.Origin.ACTIVATION_CODE)
    on_site = person("Sam", "Site", site, email="sam@cfi-essai.fr")
    site_habilitation = habilitate(on_site, centre_role, site, granted_by=gestionnaire)
    agent = AgentFactory(regions=["52"])
    elsewhere = AgentFactory(regions=["11"])
    sirene_import.import_etablissements(
        sirene_file(tmp_path / "StockEtablissement.csv", [line(HEAD), line(SITE)])
    )
    return {
        "demarche": demarche,
        "centre": centre,
        "head": head,
        "site": site,
        "gestionnaire": gestionnaire,
        "on_site": on_site,
        "site_habilitation": site_habilitation,
        "agent": agent,
        "elsewhere": elsewhere,
    }


def test_a_file_of_changes_closing_a_site_suspends_its_habilitations_and_tells_people(
    network, tmp_path, mailbox, client
):
    changes = sirene_file(tmp_path / "MisesAJour.csv", [line(SITE, "F")])
    call_command("import_sirene", mises_a_jour=[changes], stdout=io.StringIO())

    habilitation = Habilitation.objects.get(pk=network["site_habilitation"].pk)
    assert habilitation.suspended_at is not None
    assert habilitation.suspension_reason == Habilitation.Suspension.ESTABLISHMENT_CLOSED
    assert habilitation.revoked_at is None  # kept, without access
    assert not Habilitation.objects.active().filter(pk=habilitation.pk).exists()
    # The head office and its gestionnaire are untouched; the centre stays open.
    assert Habilitation.objects.active().filter(user=network["gestionnaire"]).exists()
    network["centre"].refresh_from_db()
    assert network["centre"].closed_at is None
    network["site"].refresh_from_db()
    assert network["site"].is_active is False
    assert EstablishmentClosure.objects.get().handled_at is not None

    # The gestionnaire, the region's agent and the person suspended are told; nobody else.
    to_gestionnaire = mailbox.wait_for(
        network["gestionnaire"].email, "Établissement fermé au répertoire Sirene"
    )
    assert "Sam Site" in to_gestionnaire.text
    assert "suspendues" in to_gestionnaire.text
    assert "Saint-Nazaire" not in to_gestionnaire.subject
    mailbox.wait_for(network["agent"].user.email, "Établissement fermé au répertoire Sirene")
    to_person = mailbox.wait_for(network["on_site"].email, "est suspendue")
    assert "Mes démarches" in to_person.text
    recipients = set(OutboxEmail.objects.values_list("recipient", flat=True))
    assert recipients == {
        network["gestionnaire"].email,
        network["agent"].user.email,
        network["on_site"].email,
    }

    event = AuditEvent.objects.get(action="backoffice.establishment.closed_in_sirene")
    assert event.data["suspended"] == 1
    assert event.data["centre_closed"] is False
    assert AuditEvent.objects.filter(action="habilitation.suspended").count() == 1

    # The centre's page in the back-office shows it on the site.
    login_agent(client, network["agent"])
    page = client.get(reverse("backoffice:centre", args=[network["centre"].pk]))
    assert "Établissement fermé au répertoire Sirene le" in page.content.decode()

    # Nothing happens twice.
    assert handle_establishment_closures() == 0
    call_command("import_sirene", mises_a_jour=[changes], stdout=io.StringIO())
    assert EstablishmentClosure.objects.count() == 1
    assert OutboxEmail.objects.count() == 3


def test_the_centre_s_own_establishment_closed_closes_the_centre(network, tmp_path, client):
    changes = sirene_file(tmp_path / "MisesAJour.csv", [line(HEAD, "F")])
    sirene_import.import_etablissements(changes)
    # The import only notes the closure: if the process stops here, nothing is lost, and the
    # housekeeping (the worker runs it every 10 minutes) handles it.
    assert EstablishmentClosure.objects.pending().count() == 1
    assert Habilitation.objects.active().filter(user=network["gestionnaire"]).exists()
    assert housekeeping.run()[sirene_import.CLOSURES_CHORE] == 1

    centre = network["centre"]
    centre.refresh_from_db()
    assert centre.closed_at is not None
    assert centre.closed_reason == REASON
    gestionnaire_habilitation = Habilitation.objects.get(user=network["gestionnaire"])
    assert gestionnaire_habilitation.suspension_reason == (
        Habilitation.Suspension.ESTABLISHMENT_CLOSED
    )
    # The site's habilitation is on another establishment, still open.
    assert Habilitation.objects.active().filter(pk=network["site_habilitation"].pk).exists()
    recipients = set(OutboxEmail.objects.values_list("recipient", flat=True))
    assert network["agent"].user.email in recipients
    assert network["elsewhere"].user.email not in recipients
    assert "contact@cfi-essai.fr" in recipients  # close_centre's email to the centre's contact
    assert network["gestionnaire"].email in recipients  # suspended: told so

    login_agent(client, network["agent"])
    page = client.get(reverse("backoffice:centre", args=[centre.pk])).content.decode()
    assert "Établissement fermé au répertoire Sirene le" in page
    assert REASON in page


def test_an_establishment_open_in_sirene_is_left_alone(network, tmp_path):
    sirene_import.import_etablissements(
        sirene_file(tmp_path / "MisesAJour.csv", [line(SITE), line(make_siret(SIREN, 3), "F")])
    )
    assert not EstablishmentClosure.objects.exists()
    assert handle_establishment_closures() == 0
    assert not Habilitation.objects.suspended().exists()
    assert not OutboxEmail.objects.exists()


def test_the_admin_lists_the_closures_read_only(network, tmp_path, client):
    sirene_import.import_etablissements(sirene_file(tmp_path / "MisesAJour.csv", [line(SITE, "F")]))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:companies_establishmentclosure_changelist"))
    assert page.status_code == 200
    assert SITE in page.content.decode()
    assert client.get(reverse("admin:companies_establishmentclosure_add")).status_code == 403
