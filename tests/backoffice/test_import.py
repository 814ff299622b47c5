"""CSV import of centres already approved: encodings, line-by-line errors, all or nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portail.audit.models import AuditEvent
from portail.backoffice.imports import MAX_LINES
from portail.centres.models import Centre, CentreImport
from portail.companies.models import Establishment
from tests.backoffice.factories import CentreFactory
from tests.factories import EstablishmentFactory, make_siren, make_siret

pytestmark = pytest.mark.django_db

IMPORT = reverse("backoffice:import")
HEADER = "siret;nom;adresse;region"


def siret(n: int) -> str:
    return make_siret(make_siren(900000 + n), 1)


def upload(client, text: str | bytes, encoding="utf-8", name="centres.csv"):
    raw = text if isinstance(text, bytes) else text.encode(encoding)
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, raw, content_type="text/csv")})


def errors_of(response) -> str:
    return response.content.decode()


def test_a_good_utf8_file_creates_every_centre(agent_client, national_agent):
    text = "\n".join(
        [
            "\ufeff" + HEADER + ";code_postal;commune;email;reference_agrement;date_agrement",
            f'{siret(1)};Centre Éléonore;"3 rue de l’Église\n44000 Nantes";52;44000;Nantes;a@b.fr;AGR-1;15/10/2018',
            f"{siret(2)};Formation Côte d’Azur;1 promenade;Provence-Alpes-Côte d’Azur;06000;Nice;;;",
        ]
    )
    response = upload(agent_client, text)
    created = CentreImport.objects.get()
    assert response.status_code == 302
    assert response.url == f"{reverse('backoffice:letters')}?import={created.pk}"
    centre = Centre.objects.get(establishment__siret=siret(1))
    assert centre.letter_name == "Centre Éléonore"
    assert centre.letter_address == "3 rue de l’Église\n44000 Nantes"
    assert centre.region.code == "52"
    assert centre.agrement_date.isoformat() == "2018-10-15"
    assert centre.imported_in == created
    assert Centre.objects.get(establishment__siret=siret(2)).region.code == "93"
    establishment = Establishment.objects.get(siret=siret(1))
    assert (establishment.source, establishment.verified) == ("declared", False)
    assert created.encoding == "utf-8"
    event = AuditEvent.objects.get(action="backoffice.centres.imported")
    assert event.actor == national_agent.user
    assert event.data["centres"] == 2


def test_a_windows_1252_file_with_commas_keeps_its_accents(agent_client):
    text = (
        f'SIRET,Nom,Adresse,Région\r\n{siret(3)},Lycée Hôtelier,"2 allée des Œillets, Brest",53\r\n'
    )
    upload(agent_client, text, encoding="cp1252")
    centre = Centre.objects.get()
    assert centre.letter_name == "Lycée Hôtelier"
    assert centre.letter_address == "2 allée des Œillets, Brest"
    assert CentreImport.objects.get().encoding == "windows-1252"


def test_an_existing_establishment_is_reused_not_overwritten(agent_client):
    known = EstablishmentFactory(name="NOM DU RÉPERTOIRE")
    upload(agent_client, f"{HEADER}\n{known.siret};Nom du fichier;1 rue;52\n")
    centre = Centre.objects.get()
    assert centre.establishment == known
    known.refresh_from_db()
    assert known.name == "NOM DU RÉPERTOIRE"
    assert centre.letter_name == "Nom du fichier"


def test_errors_are_reported_line_by_line_and_nothing_is_imported(agent_client):
    existing = CentreFactory()
    bad = siret(4)[:-1] + ("0" if siret(4)[-1] != "0" else "1")
    text = "\n".join(
        [
            HEADER,
            f"{siret(5)};Bon centre;1 rue;52",
            f"{bad};Mauvais SIRET;1 rue;52",
            f"{siret(5)};Doublon;1 rue;52",
            f"{existing.establishment.siret};Déjà centre;1 rue;52",
            f"{siret(6)};;1 rue;99",
            f"{siret(7)};Trop;de;colonnes;ici",
        ]
    )
    response = upload(agent_client, text)
    html = errors_of(response)
    assert response.status_code == 200
    assert "Rien n’a été importé : 5 erreurs" in html
    assert f"Ligne 3 : SIRET « {bad} » : Ce numéro SIRET n&#x27;est pas valide." in html
    assert f"Ligne 4 : SIRET {siret(5)} déjà présent ligne 2." in html
    assert f"Ligne 5 : le SIRET {existing.establishment.siret} est déjà un centre agréé" in html
    assert "Ligne 6 : nom manquant ; région « 99 » inconnue." in html
    assert "Ligne 7 : 5 colonnes au lieu de 4." in html
    assert Centre.objects.count() == 1
    assert not CentreImport.objects.exists()
    assert not Establishment.objects.filter(siret=siret(5)).exists()


def test_a_wrong_header_is_refused(agent_client):
    html = errors_of(
        upload(agent_client, f"numero;raison sociale;adresse;region\n{siret(8)};X;Y;52\n")
    )
    assert "Ligne 1 : en-tête inattendu. Colonnes obligatoires : siret;nom;adresse;region" in html
    assert not Centre.objects.exists()


def test_a_file_in_another_encoding_is_refused(agent_client):
    raw = (HEADER + "\n").encode() + b"\x81\x8d\x8f\x90\x9d;nom;adresse;52\n"
    html = errors_of(upload(agent_client, raw))
    assert "Le fichier n’est ni en UTF-8 ni en Windows-1252" in html
    assert not Centre.objects.exists()


def test_an_empty_file_is_refused(agent_client):
    assert "Le fichier soumis est vide." in errors_of(upload(agent_client, b""))
    assert "ne contient aucun centre" in errors_of(upload(agent_client, HEADER + "\n"))


def test_a_region_outside_the_agents_scope_is_refused(pdl_client):
    html = errors_of(upload(pdl_client, f"{HEADER}\n{siret(9)};Centre;1 rue;11\n"))
    assert "Ligne 2 : la région DRIEETS Île-de-France n’est pas dans votre périmètre." in html
    assert not Centre.objects.exists()


def test_100000_lines_are_refused_at_once(agent_client):
    line = f"{siret(10)};Centre;1 rue;52\n"
    html = errors_of(upload(agent_client, HEADER + "\n" + line * 100_000))
    assert f"Le fichier compte plus de {MAX_LINES} lignes" in html
    assert not Centre.objects.exists()


def test_a_large_valid_import_then_letters_for_it(agent_client):
    lines = [HEADER] + [f"{siret(100 + i)};Centre {i};{i} rue;52" for i in range(300)]
    response = upload(agent_client, "\n".join(lines))
    assert response.status_code == 302
    created = CentreImport.objects.get()
    assert created.line_count == 300
    response = agent_client.post(reverse("backoffice:letters"), {"import": created.pk})
    assert response["Content-Type"] == "application/pdf"
    import io

    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(response.content)).pages) == 300
