"""The move of regions, centres, sites liés and imports from the back-office to `centres`.

A database at the schema before the move, with rows in every moved table and in those that point
to them, migrates forward with every row and every foreign key; and back again.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from portail.backoffice.models import AgentProfile, Letter
from portail.centres.models import Centre, CentreImport, LinkedSite, Region

pytestmark = pytest.mark.django_db(transaction=True)  # the schema changes: no test transaction

BEFORE = [("backoffice", "0003_regions"), ("centres", None)]
MOVED = ["region", "centreimport", "centre", "linkedsite"]


def migrate(targets=None):
    """Migrate to `targets` (the latest migrations when None); return the models of that state."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    nodes = [target for target in targets if target[1] is not None]
    return executor.loader.project_state(nodes).apps


def seed(apps) -> dict:
    """Rows at the schema before the move, through the models of that state."""
    Region = apps.get_model("backoffice", "Region")
    Establishment = apps.get_model("companies", "Establishment")
    User = apps.get_model("accounts", "User")
    Demarche = apps.get_model("demarches", "Demarche")
    ActivationCode = apps.get_model("demarches", "ActivationCode")
    region_52, _ = Region.objects.get_or_create(code="52", defaults={"name": "DREETS PDL"})
    region_11, _ = Region.objects.get_or_create(code="11", defaults={"name": "DRIEETS IDF"})
    user = User.objects.create(email="agent@dreets.gouv.fr", password="!")
    demarche, _ = Demarche.objects.get_or_create(
        code="ceres", defaults={"short_label": "CERES", "long_name": "CERES", "service_type": "T"}
    )
    centre_import = apps.get_model("backoffice", "CentreImport").objects.create(
        created_by=user, line_count=1
    )
    head = Establishment.objects.create(siret="90310000600019", siren="903100006", name="CFI")
    site = Establishment.objects.create(siret="90311781000015", siren="903117810", name="SITE")
    centre = apps.get_model("backoffice", "Centre").objects.create(
        establishment=head,
        region=region_52,
        letter_name="CFI",
        letter_address="Nantes",
        imported_in=centre_import,
    )
    LinkedSite = apps.get_model("backoffice", "LinkedSite")
    LinkedSite.objects.create(centre=centre, establishment=site)
    LinkedSite.objects.create(centre=centre, label="Annexe", address="1 rue sans SIRET")
    agent = apps.get_model("backoffice", "AgentProfile").objects.create(user=user)
    agent.regions.set([region_52, region_11])
    code = ActivationCode.objects.create(
        demarche=demarche,
        siret=head.siret,
        code_hash="hash",
        expires_at=timezone.now() + timedelta(days=30),
    )
    batch = apps.get_model("backoffice", "LetterBatch").objects.create(source="single")
    letter = apps.get_model("backoffice", "Letter").objects.create(
        centre=centre, batch=batch, activation_code=code
    )
    return {
        "regions": Region.objects.count(),
        "centre": centre.pk,
        "site": site.pk,
        "import": centre_import.pk,
        "agent": agent.pk,
        "letter": letter.pk,
    }


def test_the_move_keeps_every_row_and_key_and_goes_back():
    try:
        ContentType.objects.clear_cache()
        apps = migrate(BEFORE)
        assert ContentType.objects.filter(app_label="centres").count() == 0  # relabelled back
        ids = seed(apps)
        centre_type = ContentType.objects.get(app_label="backoffice", model="centre")
        LogEntry.objects.create(
            user_id=apps.get_model("accounts", "User").objects.get().pk,
            content_type=centre_type,
            object_id=str(ids["centre"]),
            object_repr="CFI",
            action_flag=ADDITION,
        )
        # As post_migrate does after a migration back: a fresh content type under the new label.
        ContentType.objects.create(app_label="centres", model="region")

        migrate()

        ContentType.objects.clear_cache()
        assert Region.objects.count() == ids["regions"]
        centre = Centre.objects.get(pk=ids["centre"])
        assert centre.imported_in == CentreImport.objects.get(pk=ids["import"])
        assert {(s.establishment_id, s.address) for s in LinkedSite.objects.all()} == {
            (ids["site"], ""),
            (None, "1 rue sans SIRET"),
        }
        agent = AgentProfile.objects.get(pk=ids["agent"])
        assert sorted(agent.regions.values_list("code", flat=True)) == ["11", "52"]
        assert sorted(Region.objects.get(code="52").agents.all()) == [agent]
        assert Letter.objects.get(pk=ids["letter"]).centre == centre
        assert centre.letters.get().pk == ids["letter"]
        # The admin's history follows the model; one content type per moved model.
        entry = LogEntry.objects.get()
        assert entry.content_type_id == centre_type.pk
        assert entry.get_edited_object() == centre
        assert not ContentType.objects.filter(app_label="backoffice", model__in=MOVED).exists()
        for model in MOVED:
            assert ContentType.objects.filter(app_label="centres", model=model).count() <= 1
        # New rows get new keys in the renamed tables.
        region = Region.objects.create(code="99", name="Test")
        assert region.pk > Region.objects.exclude(pk=region.pk).order_by("-pk")[0].pk

        # And back: the rows are in the back-office's tables again.
        apps = migrate(BEFORE)
        ContentType.objects.clear_cache()
        old_centres = apps.get_model("backoffice", "Centre").objects
        assert old_centres.model._meta.db_table == "backoffice_centre"
        assert old_centres.get(pk=ids["centre"]).sites.count() == 2
        assert apps.get_model("backoffice", "Letter").objects.get().centre_id == ids["centre"]
        old_agent = apps.get_model("backoffice", "AgentProfile").objects.get(pk=ids["agent"])
        assert old_agent.regions.count() == 2
        assert LogEntry.objects.get().content_type.app_label == "backoffice"
    finally:
        migrate()
        ContentType.objects.clear_cache()
