"""Access requests move to the habilitations app (habilitations/0004 takes the model over).

The table is renamed, not copied: its rows, its indexes and the `one_pending_access_request`
constraint go with it. For Django's state the model leaves this app here.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("demarches", "0002_catalogue")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(
                    name="accessrequest", table="habilitations_accessrequest"
                ),
            ],
            state_operations=[migrations.DeleteModel(name="AccessRequest")],
        ),
    ]
