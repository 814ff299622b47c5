# Written by hand: an email names its démarche and establishment by identifier, not by foreign
# key (docs/architecture.md). No column is dropped and no value changes:
# 1. the foreign keys lose their database constraint (the columns and their indexes stay);
# 2. the state swaps each foreign key for an integer field named after its column (`demarche_id`,
#    `establishment_id`), indexed as before, and the "Historique des messages" index
#    (demarche_id, establishment_id, -created_at) for the same index over the new fields, under
#    its name: nothing to do in the database.
# Reversible; going back re-adds the constraints, which fails if an email names a démarche or an
# establishment that no longer exists.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboxemail',
            name='demarche',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='demarches.demarche'),
        ),
        migrations.AlterField(
            model_name='outboxemail',
            name='establishment',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='companies.establishment'),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveIndex(model_name='outboxemail', name='notificatio_demarch_22d0fd_idx'),
                migrations.RemoveField(model_name='outboxemail', name='demarche'),
                migrations.AddField(
                    model_name='outboxemail',
                    name='demarche_id',
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
                migrations.RemoveField(model_name='outboxemail', name='establishment'),
                migrations.AddField(
                    model_name='outboxemail',
                    name='establishment_id',
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
                migrations.AddIndex(
                    model_name='outboxemail',
                    index=models.Index(fields=['demarche_id', 'establishment_id', '-created_at'], name='notificatio_demarch_22d0fd_idx'),
                ),
            ],
        ),
    ]
