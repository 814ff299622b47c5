"""0002: the démarche and establishment of an event stop being foreign keys; no value is lost."""

import pytest

from portail.audit.models import AuditEvent
from tests.factories import DemarcheFactory, EstablishmentFactory
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("audit", "0001_initial")
AFTER = ("audit", "0002_ids_not_foreign_keys")


def test_events_keep_their_demarche_and_establishment_ids_both_ways():
    demarche, establishment = DemarcheFactory(), EstablishmentFactory()
    try:
        old = migrate(BEFORE).get_model("audit", "AuditEvent")
        about = old.objects.create(
            action="habilitation.granted",
            demarche_id=demarche.pk,
            establishment_id=establishment.pk,
        ).pk
        about_nothing = old.objects.create(action="account.login").pk

        migrate(AFTER)
        assert AuditEvent.objects.get(pk=about).demarche_id == demarche.pk
        assert AuditEvent.objects.get(pk=about).establishment_id == establishment.pk
        assert AuditEvent.objects.get(pk=about_nothing).demarche_id is None

        back = migrate(BEFORE).get_model("audit", "AuditEvent")
        assert back.objects.filter(pk=about, demarche_id=demarche.pk).exists()
        assert back.objects.filter(pk=about, establishment_id=establishment.pk).exists()
    finally:
        migrate_to_latest()
