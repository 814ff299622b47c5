"""Access requests moved from the démarches app to habilitations: the rows, the constraint and
the content type survive the move, and the move can be undone.

Migrates the test database back to the schema before the move, writes rows with the models of
that time, migrates forward again (and leaves the database at the latest migrations).
"""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("demarches", "0002_catalogue"), ("habilitations", "0003_live_habilitation_cover")]
AFTER = [
    ("demarches", "0003_accessrequest_to_habilitations"),
    ("habilitations", "0004_accessrequest"),
]


def migrate(targets):
    """Migrate the two apps to `targets`; the models of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def back_to_before_the_move():
    old = migrate(BEFORE)
    yield old
    # Whatever happened: the next tests find the latest schema (later migrations included).
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def write_rows(old):
    """Two requests (a pending one and a refused one) with the models before the move."""
    user_model = old.get_model("accounts", "User")
    establishment = old.get_model("companies", "Establishment").objects.create(
        siret="11122233300014", siren="111222333", name="CFI"
    )
    demarche = old.get_model("demarches", "Demarche").objects.create(
        code="ceres-test", short_label="CERES", long_name="Certifications", service_type="x"
    )
    role = old.get_model("demarches", "Role").objects.create(
        demarche=demarche, code="centre", label="Centre agréé"
    )
    requester = user_model.objects.create(email="demandeur@exemple.fr")
    old_request = old.get_model("demarches", "AccessRequest")
    expires = timezone.now() + timedelta(days=30)
    common = {"requester": requester, "demarche": demarche, "establishment": establishment}
    pending = old_request.objects.create(**common, role=role, message="Bonjour", expires_at=expires)
    refused = old_request.objects.create(
        **common, role=role, status="refused", decision_reason="Non", expires_at=expires
    )
    return common, role, expires, {pending.pk, refused.pk}


def test_rows_constraint_and_content_type_survive_the_move(back_to_before_the_move):
    old = back_to_before_the_move
    common, role, expires, pks = write_rows(old)
    old_content_type = old.get_model("contenttypes", "ContentType").objects.filter(
        app_label="demarches", model="accessrequest"
    )
    assert old_content_type.exists()
    assert "demarches_accessrequest" in connection.introspection.table_names()

    new = migrate(AFTER)

    tables = connection.introspection.table_names()
    assert "habilitations_accessrequest" in tables
    assert "demarches_accessrequest" not in tables
    access_request = new.get_model("habilitations", "AccessRequest")
    assert set(access_request.objects.values_list("pk", flat=True)) == pks
    assert access_request.objects.get(status="pending").message == "Bonjour"
    assert access_request.objects.get(status="refused").decision_reason == "Non"
    content_type = new.get_model("contenttypes", "ContentType").objects
    assert content_type.filter(app_label="habilitations", model="accessrequest").exists()
    assert not content_type.filter(app_label="demarches", model="accessrequest").exists()
    # one_pending_access_request still holds
    ids = {f"{name}_id": value.pk for name, value in common.items()}
    with pytest.raises(IntegrityError), transaction.atomic():
        access_request.objects.create(**ids, role_id=role.pk, expires_at=expires)


def test_the_move_can_be_undone_and_done_again(back_to_before_the_move):
    old = back_to_before_the_move
    _, _, _, pks = write_rows(old)
    migrate(AFTER)

    old = migrate(BEFORE)

    assert "demarches_accessrequest" in connection.introspection.table_names()
    old_request = old.get_model("demarches", "AccessRequest")
    assert set(old_request.objects.values_list("pk", flat=True)) == pks
    content_type = old.get_model("contenttypes", "ContentType").objects
    assert content_type.filter(app_label="demarches", model="accessrequest").exists()
    assert not content_type.filter(app_label="habilitations", model="accessrequest").exists()

    new = migrate(AFTER)

    new_request = new.get_model("habilitations", "AccessRequest")
    assert set(new_request.objects.values_list("pk", flat=True)) == pks
