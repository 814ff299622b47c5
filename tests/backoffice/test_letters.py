"""The CERES letter: the manual's text, one code per letter, the code only in the PDF."""

import csv
import io
import logging
import re
from datetime import date

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from portail.audit.models import AuditEvent
from portail.backoffice import flows
from portail.backoffice.letters import LetterContent, letter_date_line, render_letters
from portail.backoffice.models import Letter, LetterBatch
from portail.demarches.codes import hash_code
from portail.demarches.models import ActivationCode
from tests.backoffice.factories import CentreFactory

pytestmark = pytest.mark.django_db

CODE_RE = re.compile(r"Code d'activation : ([0-9A-Z-]+)")


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def codes_of(content: bytes) -> list[str]:
    return [CODE_RE.search(text).group(1) for text in pdf_text(content)]


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_date_line_is_french_and_the_place_comes_from_settings(settings):
    assert letter_date_line(date(2018, 10, 29)) == "Paris, le 29 octobre 2018"
    settings.LETTER_PLACE = "Nantes"
    assert letter_date_line(date(2019, 2, 1)) == "Nantes, le 1 février 2019"


def test_the_letter_says_what_the_manual_says(settings):
    settings.PORTAL_BASE_URL = "https://ceres.emploi.gouv.fr"
    settings.ASSISTANCE_PHONE = "01 46 29 25 54"
    out = io.BytesIO()
    pages = render_letters(
        [
            LetterContent(
                "CFI ATLANTIQUE",
                "12 quai de la Fosse\n44000 Nantes",
                "90310000600019",
                "K7QM-3XRT-W9PD",
            )
        ],
        out,
        day=date(2018, 10, 29),
    )
    assert pages == 1
    reader = PdfReader(io.BytesIO(out.getvalue()))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (round(A4[0]), round(A4[1]))
    text = one_line(reader.pages[0].extract_text())
    expected = [
        "CFI ATLANTIQUE 12 quai de la Fosse 44000 Nantes",
        "Paris, le 29 octobre 2018",
        "Objet : Modalités d'accès à l'applicatif CERES",
        "Madame, Monsieur,",
        (
            "Vous avez un agrément pour organiser des sessions d'examen pour l'obtention d'un titre "
            "professionnel du ministère chargé de l'emploi."
        ),
        (
            "Pour vous connecter à CERES (CERTifications Emplois), l'applicatif qui centralise "
            "l'ensemble des processus métiers gérés par les différents acteurs de la politique du "
            "titre professionnel du ministère chargé de l'emploi, vous devez créer un compte personnel "
            "CERES sur le portail de services :"
        ),
        "https://ceres.emploi.gouv.fr",
        "Pour ce faire, vous devez vous munir des éléments suivants de votre dossier :",
        "SIRET : 90310000600019",
        "Code d'activation : K7QM-3XRT-W9PD",
        (
            "En cas de difficultés pour vous créer un compte, ou si vous estimez que ni votre centre, "
            "ni votre siège n'êtes concernés par ce courrier, vous pouvez vous adresser au service "
            "d'assistance téléphonique du lundi au vendredi 9h à 18h au 01 46 29 25 54."
        ),
    ]
    position = 0
    for sentence in expected:
        found = text.find(sentence, position)
        assert found >= 0, f"missing or out of order: {sentence!r}\n{text}"
        position = found + len(sentence)


def test_generer_le_courrier_issues_a_code_that_only_the_pdf_holds(
    agent_client, national_agent, ceres
):
    centre = CentreFactory()
    response = agent_client.post(reverse("backoffice:centre_letter", kwargs={"pk": centre.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    [code] = codes_of(response.content)
    row = ActivationCode.objects.get(code_hash=hash_code(code))
    assert row.siret == centre.establishment.siret
    assert row.demarche == ceres
    assert Letter.objects.get(activation_code=row).centre == centre
    assert row.issued_by == national_agent.user
    assert AuditEvent.objects.filter(
        action="backoffice.letters.generated", actor=national_agent.user
    ).exists()


def test_generating_twice_revokes_the_first_code_and_the_summary_says_so(
    agent_client, national_agent, ceres
):
    centre = CentreFactory()
    url = reverse("backoffice:centre_letter", kwargs={"pk": centre.pk})
    [first] = codes_of(agent_client.post(url).content)
    [second] = codes_of(agent_client.post(url).content)
    assert first != second
    old = ActivationCode.objects.get(code_hash=hash_code(first))
    new = ActivationCode.objects.get(code_hash=hash_code(second))
    assert old.revoked_at is not None
    assert new.revoked_at is None
    batch = LetterBatch.objects.get(letters__activation_code=new)
    assert batch.revoked_count == 1
    summary = agent_client.get(reverse("backoffice:batch_csv", kwargs={"pk": batch.pk}))
    rows = list(csv.reader(io.StringIO(summary.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["SIRET", "Nom", "Code émis le", "Code expire le", "Code précédent révoqué"]
    assert rows[1][0] == centre.establishment.siret
    assert rows[1][4] == "oui"


def test_bulk_letters_one_pdf_one_page_per_centre_and_a_csv_summary_without_codes(
    agent_client, regions, ceres
):
    centres = [CentreFactory(region=regions["52"]) for _ in range(3)]
    CentreFactory(region=regions["11"])  # not selected
    closed = CentreFactory(region=regions["52"])
    flows.close_centre(actor=None, centre=closed, reason="Retrait de l’agrément")
    response = agent_client.post(reverse("backoffice:letters"), {"region": regions["52"].pk})
    assert response["Content-Type"] == "application/pdf"
    texts = pdf_text(response.content)
    assert len(texts) == 3
    codes = codes_of(response.content)
    assert len(set(codes)) == 3
    sirets = {re.search(r"SIRET : (\d{14})", t).group(1) for t in texts}
    assert sirets == {c.establishment.siret for c in centres}
    batch = LetterBatch.objects.get(source=LetterBatch.Source.SELECTION)
    assert batch.letter_count == 3
    assert batch.description == "région DREETS Pays de la Loire"
    summary = agent_client.get(
        reverse("backoffice:batch_csv", kwargs={"pk": batch.pk})
    ).content.decode()
    assert len(summary.strip().splitlines()) == 4
    for code in codes:
        assert code not in summary
        assert code.replace("-", "") not in summary


def test_a_closed_centre_gets_no_new_code(agent_client, ceres):
    centre = CentreFactory()
    agent_client.post(reverse("backoffice:centre_letter", kwargs={"pk": centre.pk}))
    response = agent_client.post(
        reverse("backoffice:centre_close", kwargs={"pk": centre.pk}),
        {"reason": "Retrait de l’agrément"},
    )
    assert response.status_code == 302
    assert not ActivationCode.objects.usable().filter(siret=centre.establishment.siret).exists()
    response = agent_client.post(
        reverse("backoffice:centre_letter", kwargs={"pk": centre.pk}), follow=True
    )
    assert response["Content-Type"].startswith("text/html")
    assert "est fermé : aucun nouveau code ne peut être émis" in response.content.decode()
    assert ActivationCode.objects.filter(siret=centre.establishment.siret).count() == 1


def test_no_code_is_recoverable_from_the_database_the_logs_or_the_csv(agent_client, ceres, caplog):
    centres = [CentreFactory() for _ in range(2)]
    with caplog.at_level(logging.DEBUG):
        response = agent_client.post(reverse("backoffice:letters"), {})
        codes = codes_of(response.content)
        assert len(codes) == len(centres)
        batch = LetterBatch.objects.get()
        exports = [
            agent_client.get(
                reverse("backoffice:batch_csv", kwargs={"pk": batch.pk})
            ).content.decode(),
            agent_client.get(reverse("backoffice:centres_csv")).content.decode(),
            agent_client.get(reverse("backoffice:regions_csv")).content.decode(),
            agent_client.get(
                reverse("backoffice:centre", kwargs={"pk": centres[0].pk})
            ).content.decode(),
            agent_client.get(reverse("backoffice:journal")).content.decode(),
        ]
    # Every text value of every row of every table of the project.
    stored = []
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
        ]
        if fields:
            stored += [str(v) for row in model.objects.values_list(*fields) for v in row]
    haystacks = [*stored, caplog.text, *exports]
    for code in codes:
        for form in (code, code.replace("-", ""), code.lower()):
            assert not any(form in text for text in haystacks), form
    # … while the hash of each is there.
    assert ActivationCode.objects.filter(code_hash__in=[hash_code(c) for c in codes]).count() == 2


def test_bulk_twice_revokes_the_first_codes_and_journals_each_code(
    agent_client, national_agent, regions, ceres
):
    centres = [CentreFactory(region=regions["52"]) for _ in range(3)]
    first = codes_of(agent_client.post(reverse("backoffice:letters"), {}).content)
    second = codes_of(agent_client.post(reverse("backoffice:letters"), {}).content)
    assert not set(first) & set(second)
    for code in first:
        row = ActivationCode.objects.get(code_hash=hash_code(code))
        assert row.revoked_at is not None
        assert row.revoked_reason == "Remplacé par un nouveau code"
    for code in second:
        row = ActivationCode.objects.usable().get(
            code_hash=hash_code(code.lower().replace("-", " "))
        )
        assert row.issued_by == national_agent.user
    batch = LetterBatch.objects.order_by("-pk").first()
    assert batch.revoked_count == 3
    summary = agent_client.get(
        reverse("backoffice:batch_csv", kwargs={"pk": batch.pk})
    ).content.decode()
    assert summary.count(";oui") == 3
    events = AuditEvent.objects.filter(action="activation_code.issued", actor=national_agent.user)
    assert events.count() == 6
    assert {e.establishment_id for e in events} == {c.establishment_id for c in centres}
    assert all("code" not in e.data for e in events)
