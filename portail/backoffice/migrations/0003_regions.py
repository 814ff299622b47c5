"""The 18 regions (13 metropolitan, 5 overseas) with their INSEE codes and their DREETS."""

from django.db import migrations

REGIONS = [
    ("01", "DEETS Guadeloupe"),
    ("02", "DEETS Martinique"),
    ("03", "DGCOPOP Guyane"),
    ("04", "DEETS La Réunion"),
    ("06", "DEETS Mayotte"),
    ("11", "DRIEETS Île-de-France"),
    ("24", "DREETS Centre-Val de Loire"),
    ("27", "DREETS Bourgogne-Franche-Comté"),
    ("28", "DREETS Normandie"),
    ("32", "DREETS Hauts-de-France"),
    ("44", "DREETS Grand Est"),
    ("52", "DREETS Pays de la Loire"),
    ("53", "DREETS Bretagne"),
    ("75", "DREETS Nouvelle-Aquitaine"),
    ("76", "DREETS Occitanie"),
    ("84", "DREETS Auvergne-Rhône-Alpes"),
    ("93", "DREETS Provence-Alpes-Côte d’Azur"),
    ("94", "DREETS Corse"),
]


def load(apps, schema_editor):
    Region = apps.get_model("backoffice", "Region")
    for code, name in REGIONS:
        Region.objects.update_or_create(code=code, defaults={"name": name})


def unload(apps, schema_editor):
    Region = apps.get_model("backoffice", "Region")
    Region.objects.filter(code__in=[code for code, _ in REGIONS], centres__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0002_letters_imports")]

    operations = [migrations.RunPython(load, unload)]
