"""The accounts flows called directly: refusals (one type, French, on their field), the sign-up's
registry lookup (in the flow, not the form), the login's transaction, the support's resend."""

import pytest
from django.db import transaction

from portail.accounts import flows
from portail.accounts.forms import SignupForm
from portail.accounts.models import User
from portail.audit.models import AuditEvent
from portail.companies import registry
from portail.core.context import Context
from portail.core.refusals import Refusal
from portail.notifications.models import OutboxEmail
from tests.accounts.helpers import PASSWORD, registry_establishment, signup_data
from tests.factories import UserFactory, make_siren, make_siret

pytestmark = pytest.mark.django_db

CONTEXT = Context(ip="192.0.2.1", request_id="req-1")


def _data(**overrides) -> flows.SignupData:
    values = {
        "email": "nouvelle@exemple.fr",
        "password": PASSWORD,
        "account_type": User.AccountType.PROFESSIONNEL,
        "civilite": User.Civilite.MADAME,
        "last_name": "Durand",
        "first_name": "Alice",
        "phone": "+33612345678",
        "declared_siret": "",
        "declared_company_name": "Centre",
        "declared_address": "1 rue A",
        "declared_commune": "Nantes",
    }
    values.update(overrides)
    return flows.SignupData(**values)


def _no_network(*args, **kwargs):
    raise AssertionError("the registry was asked")


def test_the_signup_form_checks_the_siret_format_without_asking_the_registry(client, monkeypatch):
    monkeypatch.setattr(registry, "lookup", _no_network)
    unknown = make_siret(make_siren(4242), 1)
    data = signup_data(client, siret=unknown[:3] + " " + unknown[3:], altcha="")
    form = SignupForm(data, lookup_only=True)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["siret"] == unknown


def test_sign_up_refuses_a_siret_unknown_to_the_registry_on_its_field():
    unknown = make_siret(make_siren(4242), 1)
    with pytest.raises(Refusal) as refused:
        flows.sign_up(_data(declared_siret=unknown), context=CONTEXT)
    assert refused.value.field == "siret"
    assert refused.value.message == "Ce SIRET est inconnu du répertoire des entreprises."
    assert not User.objects.exists()


def test_sign_up_refuses_a_closed_establishment():
    closed = registry_establishment("ANCIEN", active=False)
    with pytest.raises(Refusal) as refused:
        flows.sign_up(_data(declared_siret=closed))
    assert refused.value.field == "siret"
    assert refused.value.message == registry.CLOSED_MESSAGE


def test_sign_up_asks_the_registry_before_its_transaction(monkeypatch):
    siret = registry_establishment("CFI")
    depths = []
    real = registry.lookup

    def lookup(number):
        depths.append(len(transaction.get_connection().savepoint_ids))
        return real(number)

    monkeypatch.setattr(registry, "lookup", lookup)
    # pytest-django wraps the test in a transaction: the flow must not add one around the lookup.
    outer = len(transaction.get_connection().savepoint_ids)
    user = flows.sign_up(_data(declared_siret=siret), context=CONTEXT)
    assert user is not None
    assert depths
    assert all(depth == outer for depth in depths)
    assert user.establishment.siret == siret
    assert user.establishment_verified


def test_an_establishment_found_with_nothing_typed_comes_back_to_be_checked():
    siret = registry_establishment("FORMATIONS DU PORT")
    with pytest.raises(flows.EstablishmentRefusal) as refused:
        flows.sign_up(
            _data(
                declared_siret=siret,
                declared_company_name="",
                declared_address="",
                declared_commune="",
            )
        )
    assert refused.value.field is None
    assert refused.value.found is not None
    assert refused.value.found.name == "FORMATIONS DU PORT"
    assert not User.objects.exists()


def test_registry_down_without_a_typed_name_is_refused_on_the_siret(monkeypatch):
    def down(number):
        raise registry.RegistryUnavailable()

    monkeypatch.setattr(registry, "lookup", down)
    siret = make_siret(make_siren(4343), 1)
    with pytest.raises(flows.EstablishmentRefusal) as refused:
        flows.sign_up(_data(declared_siret=siret, declared_company_name=""))
    assert refused.value.field == "siret"
    assert refused.value.registry_down
    user = flows.sign_up(_data(declared_siret=siret, declared_company_name="Centre Tapé"))
    assert user is not None
    assert not user.establishment_verified
    assert user.establishment.name == "Centre Tapé"


def test_a_particulier_signs_up_without_the_registry(monkeypatch):
    monkeypatch.setattr(registry, "lookup", _no_network)
    user = flows.sign_up(_data(account_type=User.AccountType.PARTICULIER))
    assert user is not None
    assert user.establishment is None


def test_log_in_opens_the_session_and_journals_in_one_transaction():
    user = UserFactory()
    opened = []

    def open_session():
        opened.append(transaction.get_connection().in_atomic_block)

    flows.log_in(user, open_session, browser="", context=CONTEXT)
    assert opened == [True]
    event = AuditEvent.objects.get(action="account.login")
    assert event.target_id == str(user.pk)
    assert event.ip == "192.0.2.1"


def test_a_session_that_fails_to_open_leaves_no_login_in_the_journal():
    user = UserFactory()

    def open_session():
        raise RuntimeError("session store down")

    with pytest.raises(RuntimeError):
        flows.log_in(user, open_session, browser="", context=CONTEXT)
    assert not AuditEvent.objects.filter(action="account.login").exists()


def test_refusals_are_one_type_with_french_messages():
    assert isinstance(flows.TokenError("expired"), Refusal)
    assert flows.TokenError("expired").message == "Lien expiré"
    assert flows.TokenError("used").reason == "used"
    assert isinstance(flows.EmailAlreadyUsedError(), Refusal)
    assert "déjà celle d'un autre compte" in flows.EmailAlreadyUsedError().message
    refused = flows.AccountDeletionRefusedError([])
    assert isinstance(refused, Refusal)
    assert refused.blockers == []
    with pytest.raises(flows.TokenError) as unknown:
        flows.find_token("pas-un-jeton", "activation")
    assert unknown.value.reason == "unknown"


def test_resend_activation_to_one_account():
    agent = UserFactory()
    pending = UserFactory(email_verified_at=None)
    flows.resend_activation_to(pending, actor=agent, context=CONTEXT)
    assert OutboxEmail.objects.filter(recipient=pending.email).count() == 1
    event = AuditEvent.objects.get(action="account.activation_resent")
    assert event.target_id == str(pending.pk)
    with pytest.raises(Refusal, match="Ce compte est déjà activé"):
        flows.resend_activation_to(UserFactory(), actor=agent)
    with pytest.raises(Refusal, match="Ce compte est désactivé"):
        flows.resend_activation_to(UserFactory(email_verified_at=None, is_active=False))
