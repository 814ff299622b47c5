"""PostgreSQL: the Sirene tables lose the `varchar_pattern_ops` ("_like") indexes Django adds to
every indexed text column.

No query of the portal reads the Sirene tables with LIKE (they are looked up by SIRET and SIREN,
equal): those indexes only cost the import, where keeping them up doubled the merge's time
(decision 0022). Should a later migration alter these fields, Django would add them back: drop
them again. SQLite never had them.
"""

from django.db import migrations

LIKE_INDEXES = (
    ("companies_sireneetablissement_siret_1ff028a0_like", "companies_sireneetablissement", "siret"),
    ("companies_sireneetablissement_siren_f33da460_like", "companies_sireneetablissement", "siren"),
    ("companies_sireneunitelegale_siren_3ca7eecd_like", "companies_sireneunitelegale", "siren"),
)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _column in LIKE_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column in LIKE_INDEXES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):
    dependencies = [("companies", "0003_establishment_closure")]

    operations = [migrations.RunPython(drop, restore)]
