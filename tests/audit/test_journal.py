import pytest
from django.test import RequestFactory

from portail.audit.journal import SensitiveDataError, record
from portail.audit.models import AppendOnlyError, AuditEvent
from portail.core.context import context_of
from tests.factories import DemarcheFactory, EstablishmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_record_keeps_actor_target_ip_and_data():
    actor = UserFactory(email="agent@exemple.fr")
    establishment = EstablishmentFactory()
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")
    event = record(
        "habilitation.granted",
        actor=actor,
        target=establishment,
        establishment=establishment,
        context=context_of(request),
        data={"role": "centre-agree"},
    )
    event.refresh_from_db()
    assert event.actor == actor
    assert event.actor_label == "agent@exemple.fr"
    assert event.target_type == "companies.establishment"
    assert event.target_id == str(establishment.pk)
    assert event.ip == "203.0.113.7"
    assert event.data == {"role": "centre-agree"}


def test_the_event_keeps_the_ids_of_its_demarche_and_establishment_after_they_are_gone():
    demarche, establishment = DemarcheFactory(), EstablishmentFactory()
    ids = (demarche.pk, establishment.pk)
    event = record("habilitation.granted", demarche=demarche, establishment=establishment)
    other = record("habilitation.granted", establishment=EstablishmentFactory())
    establishment.delete()
    demarche.delete()
    event.refresh_from_db()
    assert (event.demarche_id, event.establishment_id) == ids
    assert list(AuditEvent.objects.for_establishments([ids[1]])) == [event]
    assert other.demarche_id is None


def test_events_cannot_be_changed_or_deleted():
    event = record("account.login")
    event.action = "something.else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(action="x")
    assert AuditEvent.objects.get().action == "account.login"


@pytest.mark.parametrize("key", ["password", "token", "code", "Secret"])
def test_sensitive_keys_are_refused(key):
    with pytest.raises(SensitiveDataError):
        record("account.login", data={key: "hunter2"})
    assert AuditEvent.objects.count() == 0


def test_actor_label_survives_account_deletion():
    actor = UserFactory(email="gone@exemple.fr")
    event = record("account.deleted", actor=actor)
    actor.delete()
    event.refresh_from_db()
    assert event.actor is None
    assert event.actor_label == "gone@exemple.fr"


def test_every_action_recorded_by_the_code_has_a_french_label():
    import re
    from pathlib import Path

    from portail.audit.labels import ACTION_LABELS

    root = Path(__file__).resolve().parents[2] / "portail"
    pattern = re.compile(
        r'"((?:account|activation_code|demarche|access_request|habilitation|invitation|backoffice|oidc)\.[a-z_.]+)"'
    )
    actions = {m for f in root.rglob("*.py") for m in pattern.findall(f.read_text())}
    assert actions, "the scan found no action: the pattern is wrong"
    missing = sorted(actions - set(ACTION_LABELS))
    assert not missing, f"actions without a French label in portail/audit/labels.py: {missing}"
    assert record("habilitation.granted").action_label == "Habilitation accordée"
