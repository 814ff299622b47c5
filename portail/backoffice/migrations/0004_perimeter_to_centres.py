"""Regions, centres agréés, sites liés and imports move to the `centres` app, rows kept.

1. The four tables are renamed `centres_*` (ALTER TABLE … RENAME on SQLite and PostgreSQL): their
   rows, primary keys, indexes and the foreign keys that point to them (AgentProfile.regions'
   table, Letter.centre) stay as they are.
2. The migration state: AgentProfile.regions and Letter.centre point to the `centres` models
   (`centres.0001_initial` declared them), and the back-office's own models are deleted, without
   a change to the database.
3. The content types of the four models take the `centres` label, so that the admin's history
   and the permissions granted on them follow.

Reversible: backwards, the content types and the tables take the back-office's names again.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED_MODELS = ["region", "centreimport", "centre", "linkedsite"]


def _relabel_content_types(apps, old_label: str, new_label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        old = ContentType.objects.filter(app_label=old_label, model=model)
        if not old.exists():
            continue  # a new database: post_migrate creates the content types afterwards
        # After a migration back, post_migrate may have created the content type under the new
        # label too: a fresh row, which no history points to, gives way to the old one.
        ContentType.objects.filter(app_label=new_label, model=model).delete()
        old.update(app_label=new_label)


def content_types_to_centres(apps, schema_editor):
    _relabel_content_types(apps, "backoffice", "centres")


def content_types_to_backoffice(apps, schema_editor):
    _relabel_content_types(apps, "centres", "backoffice")


class Migration(migrations.Migration):

    dependencies = [
        ('admin', '0003_logentry_add_action_flag_choices'),
        ('backoffice', '0003_regions'),
        ('centres', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='region', table='centres_region'),
                migrations.AlterModelTable(name='centreimport', table='centres_centreimport'),
                migrations.AlterModelTable(name='centre', table='centres_centre'),
                migrations.AlterModelTable(name='linkedsite', table='centres_linkedsite'),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='agentprofile',
                    name='regions',
                    field=models.ManyToManyField(blank=True, related_name='agents', to='centres.region'),
                ),
                migrations.AlterField(
                    model_name='letter',
                    name='centre',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='letters', to='centres.centre'),
                ),
                migrations.DeleteModel(name='LinkedSite'),
                migrations.DeleteModel(name='Centre'),
                migrations.DeleteModel(name='CentreImport'),
                migrations.DeleteModel(name='Region'),
            ],
        ),
        migrations.RunPython(content_types_to_centres, content_types_to_backoffice),
    ]
