"""0002: the démarche and establishment of an email stop being foreign keys; no value is lost."""

import pytest

from portail.notifications.models import OutboxEmail
from tests.factories import DemarcheFactory, EstablishmentFactory
from tests.migrating import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("notifications", "0001_initial")
AFTER = ("notifications", "0002_ids_not_foreign_keys")


def test_emails_keep_their_demarche_and_establishment_ids_both_ways():
    demarche, establishment = DemarcheFactory(), EstablishmentFactory()
    try:
        old = migrate(BEFORE).get_model("notifications", "OutboxEmail")
        about = old.objects.create(
            recipient="a@exemple.fr",
            subject="Invitation",
            body_text="…",
            category="invitation",
            demarche_id=demarche.pk,
            establishment_id=establishment.pk,
        ).pk
        about_nothing = old.objects.create(
            recipient="b@exemple.fr", subject="Activation", body_text="…", category="activation"
        ).pk

        migrate(AFTER)
        assert list(
            OutboxEmail.objects.about(demarche.pk, [establishment.pk]).values_list("pk", flat=True)
        ) == [about]
        assert OutboxEmail.objects.get(pk=about_nothing).demarche_id is None

        back = migrate(BEFORE).get_model("notifications", "OutboxEmail")
        assert back.objects.filter(
            pk=about, demarche_id=demarche.pk, establishment_id=establishment.pk
        ).exists()
    finally:
        migrate_to_latest()
