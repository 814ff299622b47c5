"""Access requests come from the démarches app (demarches/0003 renamed the table).

The model is created in Django's state only: the table `habilitations_accessrequest` already
holds the rows. The content type follows, so permissions on it are kept.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import IntegrityError, migrations, models, router, transaction


def _move_content_type(apps, schema_editor, old_label, new_label):
    """Relabel the content type of access requests (as Django's RenameContentType does)."""
    content_type_model = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not router.allow_migrate_model(db, content_type_model):
        return
    content_type = (
        content_type_model.objects.db_manager(db)
        .filter(app_label=old_label, model="accessrequest")
        .first()
    )
    if content_type is None:  # a new database: post_migrate creates it later
        return
    content_type.app_label = new_label
    try:
        with transaction.atomic(using=db):
            content_type.save(using=db, update_fields=["app_label"])
    except IntegrityError:
        # A row for the new label exists already: the old one is stale, and
        # `manage.py remove_stale_contenttypes` removes it.
        return
    content_type_model.objects.clear_cache()


def forwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "demarches", "habilitations")


def backwards(apps, schema_editor):
    _move_content_type(apps, schema_editor, "habilitations", "demarches")


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0002_invitation_submission_key"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("demarches", "0003_accessrequest_to_habilitations"),
        ("habilitations", "0003_live_habilitation_cover"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("message", models.TextField(blank=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "En attente"),
                                    ("accepted", "Acceptée"),
                                    ("refused", "Refusée"),
                                    ("cancelled", "Annulée"),
                                    ("expired", "Expirée"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("expires_at", models.DateTimeField()),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("decision_reason", models.TextField(blank=True)),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "establishment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="companies.establishment",
                            ),
                        ),
                        (
                            "requester",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="access_requests",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "demarche",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="demarches.demarche",
                            ),
                        ),
                        (
                            "granted_role",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="demarches.role",
                            ),
                        ),
                        (
                            "role",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="demarches.role",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("status", "pending")),
                                fields=("requester", "demarche", "establishment"),
                                name="one_pending_access_request",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
