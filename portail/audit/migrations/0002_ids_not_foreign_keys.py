# Written by hand: the journal names its démarche and establishment by identifier, not by foreign
# key (docs/architecture.md). No column is dropped and no value changes:
# 1. the foreign keys lose their database constraint (the columns and their indexes stay);
# 2. the state swaps each foreign key for an integer field named after its column (`demarche_id`,
#    `establishment_id`), indexed as before: nothing to do in the database.
# Reversible; going back re-adds the constraints, which fails if an event names a démarche or an
# establishment that no longer exists.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='demarche',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='demarches.demarche'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='establishment',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='companies.establishment'),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(model_name='auditevent', name='demarche'),
                migrations.AddField(
                    model_name='auditevent',
                    name='demarche_id',
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
                migrations.RemoveField(model_name='auditevent', name='establishment'),
                migrations.AddField(
                    model_name='auditevent',
                    name='establishment_id',
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
            ],
        ),
    ]
