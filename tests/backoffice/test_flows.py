"""The back-office's flows called directly (no HTTP): the registry asked by the flow, refusals as
`Refusal`s on their field, the context in the journal, the agent's second factor."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.backoffice import flows, imports, queries
from portail.backoffice.agent_auth import AgentLoginError
from portail.backoffice.forms import CsvImportForm
from portail.centres.models import Centre, LinkedSite
from portail.companies import registry
from portail.core.context import Context
from portail.core.refusals import Refusal
from portail.demarches.codes import CodeRefused
from portail.oidc.clients import ClientRegistrationError
from tests.backoffice.factories import CentreFactory
from tests.companies.factories import SireneEtablissementFactory, SireneUniteLegaleFactory
from tests.factories import make_siren, make_siret

pytestmark = pytest.mark.django_db

CONTEXT = Context(ip="192.0.2.7", request_id="req-flows-1")


def centre_data(regions):
    return {"region": regions["52"], "agrement_reference": "AGR-52-9", "contact_email": ""}


def registry_siret(**kwargs):
    unite = SireneUniteLegaleFactory(name="CFI ATLANTIQUE")
    return SireneEtablissementFactory(
        unite=unite, address="12 QUAI DE LA FOSSE", postcode="44000", commune="NANTES", **kwargs
    ).siret


def test_every_refusal_of_the_scope_is_a_refusal():
    for refusal in (
        flows.BackofficeError,
        AgentLoginError,
        imports.UnreadableFileError,
        ClientRegistrationError,
        CodeRefused,
    ):
        assert issubclass(refusal, Refusal)
    assert issubclass(CodeRefused, ValueError)  # as before, for the callers that catch it
    assert imports.UnreadableFileError("Le fichier est vide.").field == "file"


def test_register_centre_refuses_an_unknown_siret_on_the_field(national_agent, regions):
    with pytest.raises(flows.BackofficeError) as refused:
        flows.register_centre(
            actor=national_agent.user,
            siret=make_siret(make_siren(4244), 1),
            data=centre_data(regions),
            context=CONTEXT,
        )
    assert refused.value.message == "Ce SIRET est inconnu du répertoire des entreprises."
    assert refused.value.field == "siret"
    assert not Centre.objects.exists()


def test_register_centre_refuses_a_closed_establishment_and_an_existing_centre(
    national_agent, regions
):
    with pytest.raises(flows.BackofficeError) as closed:
        flows.register_centre(
            actor=national_agent.user,
            siret=registry_siret(closed=True),
            data=centre_data(regions),
        )
    assert (closed.value.message, closed.value.field) == (registry.CLOSED_MESSAGE, "siret")
    existing = CentreFactory(letter_name="Centre déjà là")
    with pytest.raises(flows.BackofficeError) as already:
        flows.register_centre(
            actor=national_agent.user,
            siret=existing.establishment.siret,
            data=centre_data(regions),
        )
    assert already.value.message == ("Ce SIRET est déjà celui d’un centre agréé (Centre déjà là).")
    assert already.value.field == "siret"


def test_register_centre_asks_the_registry_then_journals_with_the_context(national_agent, regions):
    siret = registry_siret()
    centre = flows.register_centre(
        actor=national_agent.user, siret=siret, data=centre_data(regions), context=CONTEXT
    )
    assert centre.establishment.siret == siret
    assert centre.letter_name == "CFI ATLANTIQUE"
    assert centre.letter_address == "12 QUAI DE LA FOSSE\n44000 NANTES"
    event = AuditEvent.objects.get(action="backoffice.centre.created")
    assert (event.ip, event.request_id) == ("192.0.2.7", "req-flows-1")


def test_link_site_refuses_an_unknown_siret_and_the_centres_own(national_agent):
    centre = CentreFactory()
    with pytest.raises(flows.BackofficeError) as unknown:
        flows.link_site(
            actor=national_agent.user, centre=centre, siret=make_siret(make_siren(4245), 1)
        )
    assert unknown.value.field == "siret"
    assert unknown.value.message == "Ce SIRET est inconnu du répertoire des entreprises."
    SireneEtablissementFactory(
        siret=centre.establishment.siret, siren=centre.establishment.siret[:9]
    )
    with pytest.raises(flows.BackofficeError, match="celui du centre lui-même"):
        flows.link_site(actor=national_agent.user, centre=centre, siret=centre.establishment.siret)
    site = flows.link_site(
        actor=national_agent.user, centre=centre, label="Annexe", address="1 rue du Port"
    )
    assert list(LinkedSite.objects.all()) == [site]


def test_centre_prefill_fills_only_what_the_agent_left_empty():
    siret = registry_siret()
    prefill = queries.centre_prefill(
        {"siret": siret, "letter_name": "Mon nom", "letter_address": ""}
    )
    assert prefill.error == ""
    assert prefill.values["letter_name"] == "Mon nom"
    assert prefill.values["letter_address"] == "12 QUAI DE LA FOSSE\n44000 NANTES"
    unknown = queries.centre_prefill({"siret": make_siret(make_siren(4246), 1)})
    assert unknown.data is None
    assert unknown.error == "Ce SIRET est inconnu du répertoire des entreprises."


def test_letters_for_an_empty_selection_are_refused(national_agent):
    CentreFactory(closed_at=timezone.now())
    with pytest.raises(flows.BackofficeError) as refused:
        flows.generate_selected_letters(
            actor=national_agent.user,
            centres=Centre.objects.open(),
            centre_import=None,
            description="tous les centres ouverts",
        )
    assert refused.value.message == "Aucun centre ouvert ne correspond à cette sélection."


def test_a_wrong_code_is_refused_on_the_field_and_its_failure_journaled(national_agent):
    with pytest.raises(flows.WrongCode) as refused:
        flows.check_agent_code(
            agent=national_agent.user, token="000000", enrolling=False, context=CONTEXT
        )
    assert (refused.value.message, refused.value.field) == (flows.BAD_CODE, "code")
    failed = AuditEvent.objects.get(action="backoffice.agent.otp_failed")
    assert failed.request_id == "req-flows-1"
    assert failed.data == {"enrolling": False}
    # Enrolling when no unconfirmed device waits: the step has expired.
    with pytest.raises(flows.AgentLoginError) as expired:
        flows.check_agent_code(agent=national_agent.user, token="000000", enrolling=True)
    assert expired.value.message == flows.EXPIRED_STEP
    assert not isinstance(expired.value, flows.WrongCode)


def test_the_import_form_refuses_a_file_over_the_limit(monkeypatch):
    monkeypatch.setattr("portail.backoffice.forms.MAX_BYTES", 10)
    form = CsvImportForm(
        data={}, files={"file": SimpleUploadedFile("centres.csv", b"siret;nom;adresse;region\n")}
    )
    assert not form.is_valid()
    assert form.errors["file"] == [imports.too_big_message()]
