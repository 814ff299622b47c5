"""Loads the démarches catalogue (CERES and the portal's other démarches) and their roles."""

from django.db import migrations

from portail.demarches.catalogue import install_catalogue


def load(apps, schema_editor):
    install_catalogue(apps.get_model("demarches", "Demarche"), apps.get_model("demarches", "Role"))


class Migration(migrations.Migration):
    dependencies = [("demarches", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
